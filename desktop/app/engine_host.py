"""The engine as an application holds it: one worker behind an EngineClient, what state it is
in, which model it has loaded and which request runs. Qt-free: the window's EngineController
pumps the events on a thread and hands them to ``dispatch`` on its own; a server does the same.

The server in the window's process answers requests for the window's model with the window's
worker (one copy in memory): ``lend`` starts such a reply, whose events go to a queue of the
borrower's instead of to the window's chat."""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from desktop.engine.client import EngineClient
from desktop.engine.protocol import (
    ChatMessage,
    EngineError,
    EngineEvent,
    GenerationStats,
    LoadOptions,
    LoadProgress,
    ModelLoaded,
    Sampling,
    TaskDone,
    TaskProgress,
    TokenEvent,
    Unloaded,
)


class EngineState(Enum):
    EMPTY = "No model loaded"
    LOADING = "Loading…"
    READY = "Ready"
    GENERATING = "Writing…"
    SERVING = "Answering another program…"
    FAILED = "Stopped"


def _nothing(*_: object) -> None:
    return None


@dataclass
class HostEvents:
    state_changed: Callable[[EngineState], None] = _nothing
    loaded: Callable[[ModelLoaded], None] = _nothing
    token: Callable[[str, str], None] = _nothing  # request id, text
    finished: Callable[[GenerationStats], None] = _nothing
    failed: Callable[[EngineError], None] = _nothing
    load_progress: Callable[[float], None] = _nothing  # 0..1
    task_progress: Callable[[TaskProgress], None] = _nothing
    task_done: Callable[[TaskDone], None] = _nothing


@dataclass
class LentReply:
    """A reply the window's worker writes for another front end: its events, in order."""

    request_id: str
    events: queue.Queue[EngineEvent] = field(default_factory=queue.Queue)


class EngineHost:
    def __init__(self, events: HostEvents) -> None:
        self._client = EngineClient()
        self._events = events
        self._state = EngineState.EMPTY
        self.active_request: str | None = None
        self.model: ModelLoaded | None = None
        self._lent: dict[str, LentReply] = {}

    @property
    def state(self) -> EngineState:
        return self._state

    @property
    def worker_pid(self) -> int | None:
        return self._client.worker_pid

    def _set_state(self, state: EngineState) -> None:
        if state != self._state:
            self._state = state
            self._events.state_changed(state)

    def next_event(self, timeout: float) -> EngineEvent | None:
        """The worker's next event, on any thread; hand it to ``dispatch`` on the owner's."""
        return self._client.next_event(timeout)

    def dispatch(self, event: EngineEvent) -> None:
        lent = self._lent.get(getattr(event, "request_id", None) or "")
        if lent is not None:
            lent.events.put(event)
            if not isinstance(event, (GenerationStats, EngineError)):
                return
            del self._lent[lent.request_id]
            if not (isinstance(event, EngineError) and event.kind == "crashed"):
                self.active_request = None
                self._set_state(EngineState.READY if self.model is not None else EngineState.EMPTY)
                return
            # The worker crashed answering: the window loses its model as for its own reply.
        elif isinstance(event, Unloaded) or (isinstance(event, EngineError) and event.kind == "crashed"):
            self._end_lent()
        if isinstance(event, TokenEvent):
            self._events.token(event.request_id, event.text)
        elif isinstance(event, LoadProgress):
            self._events.load_progress(event.fraction)
        elif isinstance(event, ModelLoaded):
            self.model = event
            self._set_state(EngineState.READY)
            self._events.loaded(event)
        elif isinstance(event, GenerationStats):
            if event.request_id == self.active_request:
                self.active_request = None
            self._set_state(EngineState.READY)
            self._events.finished(event)
        elif isinstance(event, EngineError):
            self.active_request = None
            if event.kind in ("load", "crashed", "eval", "quantize", "bench"):
                self.model = None
                self._set_state(EngineState.FAILED if event.kind == "crashed" else EngineState.EMPTY)
            elif self.model is not None:
                self._set_state(EngineState.READY)
            self._events.failed(event)
        elif isinstance(event, TaskProgress):
            self._events.task_progress(event)
        elif isinstance(event, TaskDone):
            self.active_request = None
            self._set_state(EngineState.EMPTY)  # a task unloads the chat model first
            self._events.task_done(event)
        elif isinstance(event, Unloaded):
            self.model = None
            self._set_state(EngineState.EMPTY)

    # Commands (the owner's thread)

    def load(self, options: LoadOptions) -> None:
        if self.model is not None or self._state == EngineState.LOADING:
            # Switching models: a fresh worker, so every byte of the old one is returned;
            # a load still running is abandoned with its worker, not waited for.
            self._client.shutdown(wait=False)
            self._end_lent()
        self.model = None
        self._set_state(EngineState.LOADING)
        self._client.load(options)

    def ready(self) -> bool:
        """A model is loaded and nothing is running: a chat can start."""
        return self._state == EngineState.READY and self.model is not None

    def chat(
        self,
        messages: list[ChatMessage],
        sampling: Sampling | None = None,
        *,
        context_policy: str = "stop",
        mode: str = "chat",
    ) -> str:
        self._set_state(EngineState.GENERATING)
        self.active_request = self._client.chat(messages, sampling, context_policy=context_policy, mode=mode)
        return self.active_request

    def start_task(self, kind: str, **payload: object) -> str:
        """A task registered with the worker (``desktop.compare.tasks``: eval, quantize, bench)."""
        self.model = None
        self._set_state(EngineState.GENERATING)
        self.active_request = self._client.start_task(kind, **payload)
        return self.active_request

    def lend(
        self, messages: list[ChatMessage], sampling: Sampling, *, mode: str = "chat", stop: Sequence[str] = ()
    ) -> LentReply | None:
        """A reply for another front end with the loaded model, when it is ready (None when not:
        loading, writing the window's own reply, or none loaded). Its events go to the returned
        queue; the window sees only the state (SERVING, then READY)."""
        if not self.ready():
            return None
        request_id = self._client.chat(messages, sampling, context_policy="stop", mode=mode, stop=stop)
        lent = LentReply(request_id)
        self._lent[request_id] = lent
        self.active_request = request_id
        self._set_state(EngineState.SERVING)
        return lent

    def cancel_lent(self, request_id: str) -> None:
        if request_id in self._lent:
            self._client.cancel(request_id)

    def _end_lent(self) -> None:
        """Each lent reply ends, saying why in words: the window's worker is gone."""
        for lent in list(self._lent.values()):
            lent.events.put(EngineError("The model was unloaded in the app.", "unloaded", lent.request_id))
        self._lent.clear()

    def cancel(self) -> None:
        if self.active_request is not None and self.active_request not in self._lent:
            self._client.cancel(self.active_request)

    def unload(self) -> None:
        """Ends the worker: all of the model's memory goes back to the system at once (an
        unload inside a live process left some 50 MB in its allocator). The next load starts
        a fresh worker. Returns at once: the caller does not wait for the memory to be freed."""
        self._client.shutdown(wait=False)
        self._end_lent()
        self.model = None
        self.active_request = None
        self._set_state(EngineState.EMPTY)

    def shutdown(self) -> None:
        self._client.shutdown()
