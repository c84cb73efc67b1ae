"""The engine as a blocking front end holds it (the command line, the tests, later the server's
worker thread): an EngineClient whose events are pumped into a ChatSession on the caller's thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from desktop.app.chat_session import ChatSession
from desktop.app.compare_runs import TaskRun
from desktop.engine.client import EngineClient, EngineFailure
from desktop.engine.protocol import (
    ChatMessage,
    EngineError,
    EngineEvent,
    GenerationStats,
    LoadOptions,
    ModelLoaded,
    Sampling,
    TaskDone,
    TaskProgress,
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


class ClientTasks:
    """A ``TaskEngine`` over EngineClient for a blocking front end: each task in a fresh worker
    (so a bench's peak memory is that model's alone), its events pumped into a run."""

    def __init__(self) -> None:
        self._client: EngineClient | None = None
        self.request: str | None = None

    def start_task(self, kind: str, **payload: object) -> str:
        self.unload()
        self._client = EngineClient()
        self.request = self._client.start_task(kind, **payload)
        return self.request

    def cancel(self) -> None:
        if self._client is not None and self.request is not None:
            self._client.cancel(self.request)

    def unload(self) -> None:
        if self._client is not None:
            self._client.shutdown()
        self._client = None
        self.request = None

    def run(self, kind: str, progress: Callable[[TaskProgress], None], **payload: object) -> dict[str, Any]:
        """Blocking: one task's result; its failure as EngineFailure; Ctrl+C cancels it."""
        request = self.start_task(kind, **payload)
        assert self._client is not None
        try:
            for event in self._client.task_events(request):
                if isinstance(event, TaskDone):
                    return event.result
                progress(event)
        except KeyboardInterrupt:
            self.cancel()
            raise
        finally:
            self.unload()
        raise EngineFailure("the engine ended the task without a result")

    def pump(self, run: TaskRun, timeout: float = 3600.0) -> None:
        """Hands the tasks' events to ``run`` until it ends."""
        while run.running and self._client is not None:
            event = self._client.next_event(timeout)
            if event is None:
                run.on_failed(EngineError("The engine did not answer in time.", kind=run.kind))
            elif isinstance(event, TaskProgress) and event.request_id == self.request:
                run.on_progress(event)
            elif isinstance(event, TaskDone) and event.request_id == self.request:
                run.on_done(event)
            elif isinstance(event, EngineError) and event.request_id in (self.request, None):
                run.on_failed(event)
