"""The engine as Qt signals: the application's EngineHost, its events pumped on a thread and
handed to it on the GUI thread; an idle timer unloads a model nobody uses, when asked to."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from desktop.app.engine_host import EngineHost, EngineState, HostEvents, LentReply
from desktop.engine.protocol import (
    ChatMessage,
    EngineEvent,
    GenerationStats,
    LoadOptions,
    ModelLoaded,
    Sampling,
)

__all__ = ["EngineController", "EngineState"]

T = TypeVar("T")


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
    # Internal: a call from another thread (the server's), run on the GUI thread.
    _call = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._host = EngineHost(
            HostEvents(
                state_changed=self.state_changed.emit,
                loaded=self.loaded.emit,
                token=self.token.emit,
                finished=self.finished.emit,
                failed=self.failed.emit,
                load_progress=self.load_progress.emit,
                task_progress=self.task_progress.emit,
                task_done=self.task_done.emit,
            )
        )
        self._stop = threading.Event()
        self._event.connect(self._dispatch)
        # Queued, always: a lambda has no thread of its own, so Qt would run it on the caller's.
        self._call.connect(self._run_call, Qt.ConnectionType.QueuedConnection)
        self._thread = threading.Thread(target=self._pump, daemon=True, name="engine-events")
        self._thread.start()
        # Unloads an unused model after a while, when the person asked for that.
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.timeout.connect(self._unload_idle)
        self.idle_ms = 0  # 0: keep the model loaded

    @property
    def state(self) -> EngineState:
        return self._host.state

    @property
    def model(self) -> ModelLoaded | None:
        return self._host.model

    @property
    def active_request(self) -> str | None:
        return self._host.active_request

    @property
    def worker_pid(self) -> int | None:
        return self._host.worker_pid

    def _pump(self) -> None:
        while not self._stop.is_set():
            event = self._host.next_event(timeout=0.2)
            if event is None:
                continue
            try:
                self._event.emit(event)
            except RuntimeError:  # the Qt side is gone (window destroyed without shutdown)
                return

    def _dispatch(self, event: EngineEvent) -> None:
        self._host.dispatch(event)
        if isinstance(event, ModelLoaded | GenerationStats):
            self._restart_idle()

    # Commands (GUI thread)

    def load(self, options: LoadOptions) -> None:
        self._host.load(options)

    def ready(self) -> bool:
        return self._host.ready()

    def chat(
        self,
        messages: list[ChatMessage],
        sampling: Sampling | None = None,
        *,
        context_policy: str = "stop",
        mode: str = "chat",
    ) -> str:
        self._idle.stop()
        return self._host.chat(messages, sampling, context_policy=context_policy, mode=mode)

    def start_task(self, kind: str, **payload: object) -> str:
        self._idle.stop()
        return self._host.start_task(kind, **payload)

    def cancel(self) -> None:
        self._host.cancel()

    def lend(
        self, messages: list[ChatMessage], sampling: Sampling, *, mode: str, stop: tuple[str, ...]
    ) -> LentReply | None:
        """A reply for the server with the window's model (EngineHost.lend)."""
        self._idle.stop()
        return self._host.lend(messages, sampling, mode=mode, stop=stop)

    def cancel_lent(self, request_id: str) -> None:
        self._host.cancel_lent(request_id)

    def _run_call(self, call: Callable[[], object]) -> None:
        call()

    def on_gui_thread(self, call: Callable[[], T], timeout_s: float = 5.0) -> T | None:
        """From another thread: ``call`` run on the GUI thread, its result; None when the
        window does not get to it in time (closing, say)."""
        done = threading.Event()
        result: list[T] = []

        def run() -> None:
            try:
                result.append(call())
            finally:
                done.set()

        self._call.emit(run)
        return result[0] if done.wait(timeout_s) and result else None

    def set_idle_minutes(self, minutes: int) -> None:
        self.idle_ms = max(0, minutes) * 60_000
        self._restart_idle()

    def _restart_idle(self) -> None:
        if self.idle_ms and self.model is not None:
            self._idle.start(self.idle_ms)
        else:
            self._idle.stop()

    def _unload_idle(self) -> None:
        if self.state == EngineState.READY and self.model is not None:
            model = self.model
            self.unload()
            self.idle_unloaded.emit(model)

    def unload(self) -> None:
        self._idle.stop()
        self._host.unload()

    def shutdown(self) -> None:
        self._host.shutdown()
        self._stop.set()
        self._thread.join(timeout=2)
