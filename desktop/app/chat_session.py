"""A conversation at work: what is sent to the engine, what is kept in the store as the reply
streams, and the notices a person sees. Qt-free: the window's ChatController adapts it to
signals; its engine is whatever front end's engine port (``ChatEngine``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, Concatenate, ParamSpec, Protocol

from desktop.chats.chat_settings import ChatMode, ChatSettings
from desktop.chats.message_html import model_label
from desktop.chats.store import Branching, Conversation, ConversationStore, Message, ReplyRecorder
from desktop.chats.turns import engine_messages, engine_mode
from desktop.db import StorageError
from desktop.engine.protocol import ChatMessage, EngineError, GenerationStats, ModelLoaded, Sampling
from desktop.settings import Settings, SettingsStore
from desktop.units import count_of

P = ParamSpec("P")


class ModeMemory(Protocol):
    """Where the mode a person chose for a model is kept (the window: its settings)."""

    def mode_for(self, model_path: str) -> ChatMode | None: ...

    def remember(self, model_path: str, mode: ChatMode) -> None: ...


class _Forgetful:
    def mode_for(self, model_path: str) -> ChatMode | None:
        return None

    def remember(self, model_path: str, mode: ChatMode) -> None:
        pass


class SettingsModes:
    """Modes kept in the settings (``model_modes``), saved by ``save`` when one changes."""

    def __init__(self, settings: SettingsStore, save: Callable[[Settings], None]) -> None:
        self._settings = settings
        self._save = save

    def mode_for(self, model_path: str) -> ChatMode | None:
        mode = self._settings.current.model_modes.get(model_path)
        return mode if mode in ("chat", "notebook") else None  # type: ignore[return-value]

    def remember(self, model_path: str, mode: ChatMode) -> None:
        current = self._settings.current
        if current.model_modes.get(model_path) != mode:
            current.model_modes[model_path] = mode
            self._save(current)


class ChatEngine(Protocol):
    """What a session needs of the engine; its tokens, stats and failures come back through
    ``ChatSession.on_token``/``on_finished``/``on_failed`` on the session's thread."""

    @property
    def model(self) -> ModelLoaded | None: ...

    def ready(self) -> bool: ...

    def chat(
        self, messages: list[ChatMessage], sampling: Sampling, *, context_policy: str, mode: str
    ) -> str: ...

    def cancel(self) -> None: ...


def _nothing(*_: object) -> None:
    return None


@dataclass
class SessionEvents:
    """What the session tells its front end."""

    conversation_shown: Callable[[Conversation, list[Message], dict[int, Branching]], None] = _nothing
    conversations_changed: Callable[[], None] = _nothing  # the list of chats (titles, order)
    user_message: Callable[[Message], None] = _nothing
    reply_started: Callable[[Message], None] = _nothing  # the reply's message, empty for now
    reply_text: Callable[[str], None] = _nothing
    reply_finished: Callable[[Message, dict[int, Branching]], None] = _nothing
    notice: Callable[[str, str], None] = _nothing  # level ("info", "warning", "error"), text
    storage_problem: Callable[[StorageError], None] = _nothing  # the history could not take a change
    history_saved: Callable[[], None] = _nothing  # a whole reply was saved
    busy_changed: Callable[[bool], None] = _nothing
    context_used: Callable[[int, int], None] = _nothing  # tokens in use, context size (0: unknown)


def _saying_storage_errors(
    method: Callable[Concatenate[ChatSession, P], None],
) -> Callable[Concatenate[ChatSession, P], None]:
    """A change the history can't take (full, locked, read-only) is a notice, not an exception."""

    def guarded(session: ChatSession, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            method(session, *args, **kwargs)
        except StorageError as exc:
            session._storage_failed(exc)

    guarded.__doc__ = method.__doc__
    return guarded


_SHORT_REASON = {
    "full": "the disk is full",
    "locked": "the chat history is in use by another program",
    "read_only": "the chat history is read-only",
    "damaged": "the chat history can't be written",
}


class ChatSession:
    def __init__(
        self,
        store: ConversationStore,
        engine: ChatEngine,
        events: SessionEvents,
        modes: ModeMemory | None = None,
    ) -> None:
        self._store = store
        self._engine = engine
        self._events = events
        self._modes: ModeMemory = modes or _Forgetful()
        self._no_template = False  # the loaded model has no chat template (a base model)
        self.conversation: Conversation | None = None
        self._recorder: ReplyRecorder | None = None
        self._request: str | None = None
        self._tokens = 0  # pieces of text the reply has had so far
        self.recommended: dict[str, float] = {}  # the loaded model's own sampling values
        self.max_tokens: int | None = None  # a front end's own cap on a reply (``hearth chat --max-tokens``)

    def replace_store(self, store: ConversationStore) -> None:
        """A new history in place of one moved aside."""
        self._store = store
        self.conversation = None
        self.open_latest(None)
        self._events.conversations_changed()

    def _storage_failed(self, exc: StorageError) -> None:
        # The pane is narrow: a short line there, the whole message (path, what to do) in the
        # window's banner.
        self._events.notice(
            "error",
            f"Not saved: {_SHORT_REASON.get(exc.kind, _SHORT_REASON['damaged'])}. "
            "What could not be saved stays on screen; the notice at the top says more.",
        )
        self._events.storage_problem(exc)

    def flush(self) -> None:
        if self._recorder is not None:
            try:
                self._recorder.flush()
            except StorageError as exc:  # the reply goes on in memory; saved again at the end
                self._storage_failed(exc)

    @property
    def busy(self) -> bool:
        return self._recorder is not None

    @property
    def settings(self) -> ChatSettings:
        return ChatSettings.from_dict(self.conversation.settings if self.conversation else {})

    @property
    def sampling(self) -> Sampling:
        sampling = self.settings.effective_sampling(self.recommended)
        return sampling if self.max_tokens is None else replace(sampling, max_tokens=self.max_tokens)

    # Which conversation

    def open_latest(self, preferred_id: int | None) -> None:
        conversation = self._store.conversation(preferred_id) if preferred_id else None
        if conversation is None:
            existing = self._store.conversations()
            conversation = existing[0] if existing else None
        if conversation is None:
            self.new_chat()
        else:
            self._show(conversation)

    def open(self, conversation_id: int) -> bool:
        if self.busy:
            return False
        conversation = self._store.conversation(conversation_id)
        if conversation is not None:
            self._show(conversation)
        return conversation is not None

    @_saying_storage_errors
    def new_chat(self) -> None:
        if self.busy:
            return
        model = self._engine.model.model_path if self._engine.model else None
        # An untouched new chat is reused rather than piling up empty ones.
        if self.conversation is not None and not self._store.message_count(self.conversation.id):
            self._store.set_model(self.conversation.id, model)
            self._show(self._store.conversation(self.conversation.id) or self.conversation)
            self._start_in_model_mode()
            return
        self._show(self._store.create_conversation(model=model))
        self._start_in_model_mode()
        self._events.conversations_changed()

    def _show(self, conversation: Conversation) -> None:
        self.conversation = conversation
        messages = self._store.messages(conversation.id)
        self._events.conversation_shown(conversation, messages, self._store.branching(conversation.id))
        last = next((m for m in reversed(messages) if m.stats and m.stats.get("n_ctx")), None)
        if last is not None and last.stats:
            used = int(last.stats.get("prompt_tokens", 0)) + int(last.stats.get("completion_tokens", 0))
            self._events.context_used(used, int(last.stats["n_ctx"]))
        else:
            self._events.context_used(0, self._engine_n_ctx())

    def _refresh(self) -> None:
        if self.conversation is not None:
            self._show(self._store.conversation(self.conversation.id) or self.conversation)

    def _engine_n_ctx(self) -> int:
        return self._engine.model.n_ctx if self._engine.model else 0

    # Managing chats

    @_saying_storage_errors
    def rename(self, conversation_id: int, title: str) -> None:
        self._store.rename(conversation_id, title)
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.conversation = self._store.conversation(conversation_id)
        self._events.conversations_changed()

    @_saying_storage_errors
    def delete(self, conversation_id: int) -> None:
        if self.busy and self.conversation is not None and self.conversation.id == conversation_id:
            return
        self._store.delete_conversation(conversation_id)
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.conversation = None
            self.open_latest(None)
        self._events.conversations_changed()

    @_saying_storage_errors
    def duplicate(self, conversation_id: int) -> None:
        copy = self._store.duplicate_conversation(conversation_id)
        self._events.conversations_changed()
        if not self.busy:
            self._show(copy)

    @_saying_storage_errors
    def update_settings(self, system_prompt: str, settings: ChatSettings) -> None:
        if self.conversation is None:
            self.new_chat()
        assert self.conversation is not None
        self._store.set_system_prompt(self.conversation.id, system_prompt)
        self._store.set_settings(self.conversation.id, settings.to_dict())
        notebook_before = self.settings.mode == "notebook"
        self.conversation = self._store.conversation(self.conversation.id)
        if (settings.mode == "notebook") != notebook_before and not self.busy:
            self._refresh()

    def set_mode(self, mode: ChatMode) -> None:
        """This chat's mode, kept for its model too: its next new chat starts in it."""
        if self.conversation is None:
            return
        self.update_settings(self.conversation.system_prompt, replace(self.settings, mode=mode))
        model = self._engine.model
        if model is not None:
            self._modes.remember(model.model_path, mode)

    def follow_link(self, link: str) -> None:
        """A notice's link: switch this chat (and the model's next ones) to notebook or chat."""
        mode: ChatMode | None = {"hearth:notebook": "notebook", "hearth:chat": "chat"}.get(link)  # type: ignore[assignment]
        if mode is None:
            return
        self.set_mode(mode)
        self._events.notice("info", "")
        self._events.notice(
            "info",
            "Notebook mode: what you write is continued as plain text, with no chat template."
            if mode == "notebook"
            else "Chat mode: turns go through the model's chat format (this model may not follow it).",
        )

    def _model_mode(self) -> ChatMode | None:
        """The mode a new chat with the loaded model starts in: the person's choice for it, else
        notebook for a model without a chat template; None: chat, as a conversation is made."""
        model = self._engine.model
        if model is None:
            return None
        return self._modes.mode_for(model.model_path) or ("notebook" if self._no_template else None)

    def _start_in_model_mode(self) -> None:
        mode = self._model_mode()
        if mode is not None and self.conversation is not None and self.settings.mode != mode:
            self.update_settings(self.conversation.system_prompt, replace(self.settings, mode=mode))

    # Engine events

    def on_loaded(self, info: ModelLoaded) -> None:
        self.recommended = dict(info.recommended_sampling)
        self._no_template = not info.has_chat_template
        if self.conversation is not None:
            self._store.set_model(self.conversation.id, info.model_path)
            self.conversation = self._store.conversation(self.conversation.id)
        empty = self.conversation is None or not self._store.message_count(self.conversation.id)
        if empty:
            self._start_in_model_mode()  # a base model opens a fresh chat in notebook mode
        notebook = self.settings.mode == "notebook"
        if self._no_template and notebook:
            self._events.notice(
                "info",
                "This model has no chat template: it continues text rather than answering, so "
                'this chat is in notebook mode. <a href="hearth:chat">Switch to chat mode</a>.',
            )
        elif info.template_note and not notebook:
            extra = (
                " It may be a base model, made to continue text rather than to chat: "
                '<a href="hearth:notebook">switch this chat to notebook mode</a>.'
                if self._no_template
                else ""
            )
            self._events.notice("warning", info.template_note + extra)
        else:
            self._events.notice("info", "")
        if empty:
            self._events.context_used(0, info.n_ctx)

    # Sending

    def _ready(self) -> bool:
        if self._engine.model is None or not self._engine.ready():
            self._events.notice("warning", "Load a model from the library first (select it, then Load).")
            return False
        return True

    def send(self, text: str) -> bool:
        if self.settings.mode != "notebook":
            text = text.strip()
        if not text.strip() or self.busy or not self._ready():
            return False
        try:
            if self.conversation is None:
                self.new_chat()
            assert self.conversation is not None
            message = self._store.add_message(self.conversation.id, "user", text)
            self.conversation = self._store.conversation(self.conversation.id) or self.conversation
        except StorageError as exc:
            # Not saved, so not sent: the text stays in the box to send again.
            self._storage_failed(exc)
            return False
        self._events.user_message(message)
        if message.content and self._store.message_count(self.conversation.id) == 1:
            self._events.conversations_changed()  # the first message names the chat
        self._start_reply()
        return True

    def edit(self, message_id: int, text: str) -> bool:
        """Sends ``text`` in place of an earlier message: what followed it stays on another branch."""
        original = self._store.message(message_id)
        if original is None or original.role != "user" or self.busy or not self._ready():
            return False
        self._store.rewind_to(original.conversation_id, original.parent_id)
        self._refresh()
        return self.send(text)

    def regenerate(self, message_id: int | None = None) -> bool:
        """A new reply in place of ``message_id`` (default: the last one); the old one is kept as a branch.

        A question left without a reply (the engine failed) is simply asked again.
        """
        if self.busy or self.conversation is None or not self._ready():
            return False
        messages = self._store.messages(self.conversation.id)
        if message_id is None and messages and messages[-1].role == "user":
            self._start_reply()
            return True
        target = next(
            (m for m in reversed(messages) if m.role == "assistant" and message_id in (None, m.id)), None
        )
        if target is None:
            return False
        self._store.rewind_to(self.conversation.id, target.parent_id)
        self._refresh()
        self._start_reply()
        return True

    @_saying_storage_errors
    def show_branch(self, message_id: int) -> None:
        if self.busy:
            return
        self._store.show_branch(message_id)
        self._refresh()

    def _start_reply(self) -> None:
        assert self.conversation is not None and self._engine.model is not None
        conversation = self._store.conversation(self.conversation.id) or self.conversation
        model_path = self._engine.model.model_path
        history = engine_messages(conversation, self._store.messages(conversation.id))
        try:
            self._recorder = ReplyRecorder(self._store, conversation.id, model=model_path)
        except StorageError as exc:
            self._storage_failed(exc)  # the question is kept; regenerate asks it again
            return
        self._tokens = 0
        self._events.reply_started(self._recorder.message)
        self._events.busy_changed(True)
        settings = self.settings
        self._request = self._engine.chat(
            history,
            self.sampling,
            context_policy=settings.context_policy,
            mode=engine_mode(conversation),
        )

    def stop(self) -> None:
        """Asks the engine to stop; the reply ends when it says it has (``on_finished``)."""
        if self.busy:
            self._engine.cancel()

    def stop_now(self) -> None:
        """Ends the reply at once, kept as far as it came and marked stopped, for a front end
        that can't wait for the engine (Ctrl+C, a reader gone); what still comes for it is ignored."""
        if self.busy:
            self._engine.cancel()
            self._end_reply({"stop_reason": "cancelled", "completion_tokens": self._tokens})

    def on_token(self, request_id: str, text: str) -> None:
        if self._recorder is not None and request_id == self._request:
            self._tokens += 1
            try:
                self._recorder.add(text)
            except StorageError as exc:
                self._storage_failed(exc)
            self._events.reply_text(text)

    def on_finished(self, stats: GenerationStats) -> None:
        if self._recorder is None or stats.request_id != self._request:
            return
        record: dict[str, Any] = asdict(stats)
        record.pop("text", None)
        record["model"] = model_label(self._recorder.message.model)
        if stats.dropped_messages:
            self._events.notice(
                "info",
                f"To fit the context, the {count_of(stats.dropped_messages, 'oldest message')} "
                f"{'was' if stats.dropped_messages == 1 else 'were'} left out of this "
                "reply's prompt; the system prompt was kept.",
            )
        elif stats.stop_reason == "context":
            self._events.notice(
                "warning",
                "The reply stopped because the context is full. Start a new chat, or choose "
                "“Drop the oldest turns” in this chat's settings.",
            )
        self._events.context_used(stats.prompt_tokens + stats.completion_tokens, stats.n_ctx)
        self._end_reply(record)

    def on_failed(self, error: EngineError) -> None:
        recorder = self._recorder
        if recorder is not None and error.kind == "context" and not recorder.text:
            # Nothing was written: no empty reply is kept, the question stays to edit or resend.
            self._store.delete_message(recorder.message.id)
            self._recorder = None
            self._request = None
            self._refresh()
            self._events.busy_changed(False)
        elif recorder is not None:
            # Keep what was written before the failure.
            self._end_reply({"stop_reason": "error", "error": error.message})
        self._events.notice("error", error.message)

    def _end_reply(self, stats: dict[str, object]) -> None:
        recorder = self._recorder
        assert recorder is not None
        self._recorder = None
        self._request = None
        try:
            recorder.finish(stats)
            finished = self._store.message(recorder.message.id) or recorder.message
            branching = self._store.branching(recorder.message.conversation_id)
        except StorageError as exc:
            self._storage_failed(exc)
            finished = replace(recorder.message, content=recorder.text, complete=True)
            branching = {}
        else:
            self._events.history_saved()
        self._events.reply_finished(finished, branching)
        self._events.busy_changed(False)
        self._events.conversations_changed()
