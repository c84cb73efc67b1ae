"""Running core calls off the GUI thread, with the outcome delivered back as a signal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _JobSignals(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = _JobSignals()

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # delivered to the caller's on_failed, in words
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


class JobRunner(QObject):
    """Owns the jobs it starts until they report, so none is collected mid-flight."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(4)
        self._live: set[_Job] = set()

    def start(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_failed: Callable[[BaseException], None],
    ) -> None:
        job = _Job(fn)
        job.setAutoDelete(False)
        self._live.add(job)

        def finish(callback: Callable[[Any], None], value: Any) -> None:
            self._live.discard(job)
            callback(value)

        job.signals.done.connect(lambda result: finish(on_done, result))
        job.signals.failed.connect(lambda exc: finish(on_failed, exc))
        self._pool.start(job)

    def wait(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)

    @property
    def busy(self) -> bool:
        return bool(self._live)
