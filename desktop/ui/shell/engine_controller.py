"""The inference engine as Qt signals: a thread pumps the client's events to the GUI thread."""

from __future__ import annotations

import threading
from enum import Enum

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.engine.client import EngineClient
from desktop.engine.protocol import (
    ChatMessage,
    EngineError,
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
    FAILED = "Stopped"


class EngineController(QObject):
    state_changed = Signal(object)  # EngineState
    loaded = Signal(object)  # ModelLoaded
    token = Signal(str, str)  # request id, text
    finished = Signal(object)  # GenerationStats
    failed = Signal(object)  # EngineError
    load_progress = Signal(float)  # 0..1
    idle_unloaded = Signal(object)  # the ModelLoaded that was unloaded for being idle
    task_progress = Signal(object)  # TaskProgress
    task_done = Signal(object)  # TaskDone

    # Internal: crosses from the pump thread to the GUI thread.
    _event = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = EngineClient()
        self._state = EngineState.EMPTY
        self._stop = threading.Event()
        self._event.connect(self._dispatch)
        self._thread = threading.Thread(target=self._pump, daemon=True, name="engine-events")
        self._thread.start()
        self.active_request: str | None = None
        self.model: ModelLoaded | None = None
        # Unloads an unused model after a while, when the person asked for that.
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.timeout.connect(self._unload_idle)
        self.idle_ms = 0  # 0: keep the model loaded

    @property
    def state(self) -> EngineState:
        return self._state

    @property
    def worker_pid(self) -> int | None:
        return self._client.worker_pid

    def _set_state(self, state: EngineState) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    def _pump(self) -> None:
        while not self._stop.is_set():
            event = self._client.next_event(timeout=0.2)
            if event is None:
                continue
            try:
                self._event.emit(event)
            except RuntimeError:  # the Qt side is gone (window destroyed without shutdown)
                return

    def _dispatch(self, event: object) -> None:
        if isinstance(event, TokenEvent):
            self.token.emit(event.request_id, event.text)
        elif isinstance(event, LoadProgress):
            self.load_progress.emit(event.fraction)
        elif isinstance(event, ModelLoaded):
            self.model = event
            self._set_state(EngineState.READY)
            self.loaded.emit(event)
            self._restart_idle()
        elif isinstance(event, GenerationStats):
            if event.request_id == self.active_request:
                self.active_request = None
            self._set_state(EngineState.READY)
            self.finished.emit(event)
            self._restart_idle()
        elif isinstance(event, EngineError):
            self.active_request = None
            if event.kind in ("load", "crashed", "eval", "quantize", "bench"):
                self.model = None
                self._set_state(EngineState.FAILED if event.kind == "crashed" else EngineState.EMPTY)
            elif self.model is not None:
                self._set_state(EngineState.READY)
            self.failed.emit(event)
        elif isinstance(event, TaskProgress):
            self.task_progress.emit(event)
        elif isinstance(event, TaskDone):
            self.active_request = None
            self._set_state(EngineState.EMPTY)  # a task unloads the chat model first
            self.task_done.emit(event)
        elif isinstance(event, Unloaded):
            self.model = None
            self._set_state(EngineState.EMPTY)

    # Commands (GUI thread)

    def load(self, options: LoadOptions) -> None:
        if self.model is not None or self._state == EngineState.LOADING:
            # Switching models: a fresh worker, so every byte of the old one is returned;
            # a load still running is abandoned with its worker, not waited for.
            self._client.shutdown(wait=False)
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
        self._idle.stop()
        self._set_state(EngineState.GENERATING)
        self.active_request = self._client.chat(messages, sampling, context_policy=context_policy, mode=mode)
        return self.active_request

    def start_task(self, kind: str, **payload: object) -> str:
        """An evaluation, quantization or speed bench in the worker (``desktop.compare.tasks``)."""
        self._idle.stop()
        self.model = None
        self._set_state(EngineState.GENERATING)
        self.active_request = self._client.start_task(kind, **payload)
        return self.active_request

    def cancel(self) -> None:
        if self.active_request is not None:
            self._client.cancel(self.active_request)

    def set_idle_minutes(self, minutes: int) -> None:
        self.idle_ms = max(0, minutes) * 60_000
        self._restart_idle()

    def _restart_idle(self) -> None:
        if self.idle_ms and self.model is not None:
            self._idle.start(self.idle_ms)
        else:
            self._idle.stop()

    def _unload_idle(self) -> None:
        if self._state == EngineState.READY and self.model is not None:
            model = self.model
            self.unload()
            self.idle_unloaded.emit(model)

    def unload(self) -> None:
        """Ends the worker: all of the model's memory goes back to the system at once (an
        unload inside a live process left some 50 MB in its allocator). The next load starts
        a fresh worker."""
        self._idle.stop()
        self._client.shutdown(wait=False)  # the GUI thread does not wait for the memory to be freed
        self.model = None
        self.active_request = None
        self._set_state(EngineState.EMPTY)

    def shutdown(self) -> None:
        self._client.shutdown()
        self._stop.set()
        self._thread.join(timeout=2)
