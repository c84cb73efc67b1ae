"""The conversation on screen: the window's side of a ChatSession (desktop.app.chat_session),
its news as signals on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.app.chat_session import ChatSession, ModeMemory, SessionEvents
from desktop.chats.chat_settings import ChatSettings
from desktop.chats.message_html import model_label
from desktop.chats.store import Conversation, ConversationStore, Message
from desktop.engine.protocol import Sampling
from desktop.ui.shell.engine_controller import EngineController


class ChatController(QObject):
    conversation_shown = Signal(object, list, object)  # Conversation, list[Message], branching
    conversations_changed = Signal()  # the list of chats (titles, order) changed
    user_message = Signal(object)  # Message
    reply_started = Signal(object)  # the reply's Message, empty for now
    reply_text = Signal(str)
    reply_finished = Signal(object, object)  # Message with stats, branching (dict[int, Branching])
    notice = Signal(str, str)  # level ("info", "warning", "error"), text
    storage_problem = Signal(object)  # StorageError: the history could not take a change
    history_saved = Signal()  # a whole reply was saved: earlier storage problems are over
    busy_changed = Signal(bool)
    context_used = Signal(int, int)  # tokens in use, context size (0: unknown)

    def __init__(
        self,
        store: ConversationStore,
        engine: EngineController,
        parent: QObject | None = None,
        modes: ModeMemory | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = ChatSession(
            store,
            engine,
            SessionEvents(
                conversation_shown=self.conversation_shown.emit,
                conversations_changed=self.conversations_changed.emit,
                user_message=self.user_message.emit,
                reply_started=self.reply_started.emit,
                reply_text=self.reply_text.emit,
                reply_finished=self.reply_finished.emit,
                notice=self.notice.emit,
                storage_problem=self.storage_problem.emit,
                history_saved=self.history_saved.emit,
                busy_changed=self.busy_changed.emit,
                context_used=self.context_used.emit,
            ),
            modes,
        )
        session = self.session
        # Text that arrived just before the stream paused is saved within half a second too.
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(500)
        self._flush_timer.timeout.connect(session.flush)
        self.busy_changed.connect(
            lambda busy: self._flush_timer.start() if busy else self._flush_timer.stop()
        )
        engine.token.connect(session.on_token)
        engine.finished.connect(session.on_finished)
        engine.failed.connect(session.on_failed)
        engine.loaded.connect(session.on_loaded)
        # What the window asks of the conversation is the session's own.
        self.replace_store = session.replace_store
        self.open_latest = session.open_latest
        self.open = session.open
        self.new_chat = session.new_chat
        self.rename = session.rename
        self.delete = session.delete
        self.duplicate = session.duplicate
        self.update_settings = session.update_settings
        self.set_mode = session.set_mode
        self.follow_link = session.follow_link
        self.send = session.send
        self.edit = session.edit
        self.regenerate = session.regenerate
        self.show_branch = session.show_branch
        self.stop = session.stop

    @property
    def conversation(self) -> Conversation | None:
        return self.session.conversation

    @property
    def busy(self) -> bool:
        return self.session.busy

    @property
    def settings(self) -> ChatSettings:
        return self.session.settings

    @property
    def sampling(self) -> Sampling:
        return self.session.sampling

    @property
    def recommended(self) -> dict[str, float]:
        return self.session.recommended


__all__ = ["ChatController", "Message", "model_label"]
