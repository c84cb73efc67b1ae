"""The engine as a blocking front end holds it (the command line, the tests, later the server's
worker thread): an EngineClient whose events are pumped into a ChatSession on the caller's thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext

from desktop.app.chat_session import ChatSession
from desktop.engine.client import EngineClient
from desktop.engine.protocol import (
    ChatMessage,
    EngineError,
    EngineEvent,
    GenerationStats,
    LoadOptions,
    ModelLoaded,
    Sampling,
    TokenEvent,
)

IDLE_S = 0.5  # after this long without an event, ``on_idle`` (the session saves what came)


class ClientEngine:
    """A ``ChatEngine`` port over an EngineClient."""

    def __init__(self, client: EngineClient) -> None:
        self.client = client
        self.model: ModelLoaded | None = None
        self.request: str | None = None

    @classmethod
    def started(cls) -> ClientEngine:
        """A port over a new client (its worker starts with the first command)."""
        return cls(EngineClient())

    def load(self, options: LoadOptions) -> ModelLoaded:
        """Blocking: the model loaded, or EngineFailure saying why not."""
        self.client.load(options)
        self.model = self.client.wait_loaded()
        return self.model

    def ready(self) -> bool:
        return self.model is not None and self.request is None

    def chat(self, messages: list[ChatMessage], sampling: Sampling, *, context_policy: str, mode: str) -> str:
        self.request = self.client.chat(messages, sampling, context_policy=context_policy, mode=mode)
        return self.request

    def cancel(self) -> None:
        if self.request is not None:
            self.client.cancel(self.request)

    def pump(
        self,
        session: ChatSession,
        *,
        timeout: float = 300.0,
        token_guard: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        """Hands the reply's events to ``session`` until it ends. ``token_guard`` wraps each token
        (the command line holds Ctrl+C there, so a token shown is a token kept). Silence past
        ``timeout`` ends the reply as an engine failure."""
        silent = 0.0
        for event in self._events():
            if event is None:
                session.flush()
                silent += IDLE_S
                if silent >= timeout:
                    self.cancel()
                    self.request = None
                    session.on_failed(EngineError("The engine did not answer in time.", kind="generate"))
                continue
            silent = 0.0
            if isinstance(event, TokenEvent):
                with token_guard():
                    session.on_token(event.request_id, event.text)
            elif isinstance(event, GenerationStats) and event.request_id == self.request:
                self.request = None
                session.on_finished(event)
            elif isinstance(event, EngineError) and event.request_id in (self.request, None):
                self.request = None
                session.on_failed(event)

    def _events(self) -> Iterator[EngineEvent | None]:
        while self.request is not None:
            yield self.client.next_event(IDLE_S)
