"""The download in progress, as Qt signals (one at a time in this version)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desktop.hub.download import DownloadProgress
from desktop.hub.download_process import DownloadOutcome, DownloadProcess


class DownloadManager(QObject):
    started = Signal(str, str)  # repo id, file name
    progress = Signal(object)  # DownloadProgress
    finished = Signal(str)  # path in the library
    failed = Signal(str)  # message
    cancelled = Signal()

    _progress = Signal(object)
    _outcome = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job: DownloadProcess | None = None
        self._progress.connect(self.progress)
        self._outcome.connect(self._finish)

    @property
    def active(self) -> bool:
        return self._job is not None

    @property
    def current(self) -> tuple[str, str] | None:
        return (self._job.repo_id, self._job.filename) if self._job else None

    def start(self, repo_id: str, filename: str) -> bool:
        if self._job is not None:
            return False
        self._job = DownloadProcess(
            repo_id, filename, on_progress=self._progress.emit, on_finished=self._outcome.emit
        )
        self.started.emit(repo_id, filename)
        return True

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def shutdown(self) -> None:
        job = self._job
        if job is not None:
            job.cancel()
            job.wait(5)

    def _finish(self, outcome: DownloadOutcome) -> None:
        self._job = None
        if outcome.cancelled:
            self.cancelled.emit()
        elif outcome.path is not None:
            self.finished.emit(str(outcome.path))
        else:
            self.failed.emit(outcome.error or "The download failed.")


__all__ = ["DownloadManager", "DownloadProgress"]
