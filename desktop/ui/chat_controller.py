"""The conversation on screen: what is sent to the engine, and what is kept in the store."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.chats.store import Conversation, ConversationStore, Message, ReplyRecorder
from desktop.engine.protocol import ChatMessage, EngineError, GenerationStats, ModelLoaded, Sampling
from desktop.ui.engine_bridge import EngineController, EngineState


def model_label(path: str | None) -> str:
    if not path:
        return "No model"
    name = Path(path).name
    return name[: -len(".gguf")] if name.lower().endswith(".gguf") else name


class ChatController(QObject):
    conversation_shown = Signal(object, list)  # Conversation, list[Message]
    user_message = Signal(object)  # Message
    reply_started = Signal(str)  # model label
    reply_text = Signal(str)
    reply_finished = Signal(object)  # Message, with stats
    notice = Signal(str, str)  # level ("info", "warning", "error"), text
    busy_changed = Signal(bool)

    def __init__(
        self, store: ConversationStore, engine: EngineController, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._engine = engine
        self.conversation: Conversation | None = None
        self._recorder: ReplyRecorder | None = None
        self._request: str | None = None
        self.sampling = Sampling(max_tokens=2048)
        engine.token.connect(self._on_token)
        engine.finished.connect(self._on_finished)
        engine.failed.connect(self._on_failed)
        engine.loaded.connect(self._on_loaded)

    @property
    def busy(self) -> bool:
        return self._recorder is not None

    def open_latest(self, preferred_id: int | None) -> None:
        conversation = self._store.conversation(preferred_id) if preferred_id else None
        if conversation is None:
            existing = self._store.conversations()
            conversation = existing[0] if existing else None
        if conversation is None:
            self.new_chat()
        else:
            self._show(conversation)

    def new_chat(self) -> None:
        if self.busy:
            return
        model = self._engine.model.model_path if self._engine.model else None
        # An untouched new chat is reused rather than piling up empty ones.
        if self.conversation is not None and not self._store.messages(self.conversation.id):
            self._store.set_model(self.conversation.id, model)
            self._show(self._store.conversation(self.conversation.id) or self.conversation)
            return
        self._show(self._store.create_conversation(model=model))

    def _show(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.conversation_shown.emit(conversation, self._store.messages(conversation.id))

    def _on_loaded(self, info: ModelLoaded) -> None:
        if self.conversation is not None:
            self._store.set_model(self.conversation.id, info.model_path)
            self.conversation = self._store.conversation(self.conversation.id)
        if info.template_note:
            self.notice.emit("warning", info.template_note)
        else:
            self.notice.emit("info", "")

    def send(self, text: str) -> bool:
        text = text.strip()
        if not text or self.busy:
            return False
        if self._engine.model is None or self._engine.state != EngineState.READY:
            self.notice.emit("warning", "Load a model from the library first (select it, then Load).")
            return False
        if self.conversation is None:
            self.new_chat()
        assert self.conversation is not None
        conversation_id = self.conversation.id
        history = [ChatMessage(m.role, m.content) for m in self._store.messages(conversation_id) if m.content]
        message = self._store.add_message(conversation_id, "user", text)
        self.user_message.emit(message)
        history.append(ChatMessage("user", text))
        model_path = self._engine.model.model_path
        self._recorder = ReplyRecorder(self._store, conversation_id, model=model_path)
        self.reply_started.emit(model_label(model_path))
        self.busy_changed.emit(True)
        self._request = self._engine.chat(history, self.sampling)
        return True

    def stop(self) -> None:
        if self.busy:
            self._engine.cancel()

    def _on_token(self, request_id: str, text: str) -> None:
        if self._recorder is not None and request_id == self._request:
            self._recorder.add(text)
            self.reply_text.emit(text)

    def _on_finished(self, stats: GenerationStats) -> None:
        if self._recorder is None or stats.request_id != self._request:
            return
        record = asdict(stats)
        record.pop("text", None)
        record["model"] = model_label(self._recorder.message.model)
        self._end_reply(record)

    def _on_failed(self, error: EngineError) -> None:
        if self._recorder is not None:
            # Keep what was written before the failure.
            self._end_reply({"stop_reason": "error", "error": error.message})
        self.notice.emit("error", error.message)

    def _end_reply(self, stats: dict[str, object]) -> None:
        recorder = self._recorder
        assert recorder is not None
        recorder.finish(stats)
        self._recorder = None
        self._request = None
        self.reply_finished.emit(self._store.message(recorder.message.id))
        self.busy_changed.emit(False)


__all__ = ["ChatController", "Message", "model_label"]
