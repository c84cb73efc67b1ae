"""The download queue as Qt: a list model, one download running at a time, and its actions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from desktop.db import StorageError
from desktop.hub.download_queue import DownloadItem, load_queue, save_queue
from desktop.units import format_bytes, format_duration

if TYPE_CHECKING:
    # The download code is imported when a download starts or is cancelled, not with the window.
    from desktop.hub.download import DownloadProgress
    from desktop.hub.download_process import DownloadOutcome, DownloadProcess

Index = QModelIndex | QPersistentModelIndex
ItemRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2


def status_text(item: DownloadItem) -> str:
    done, total = format_bytes(item.done_bytes), format_bytes(item.total_bytes)
    if item.state == "downloading":
        if item.total_bytes and item.done_bytes >= item.total_bytes:
            return "Downloaded; checking it against the Hub's checksum…"
        eta = (
            (item.total_bytes - item.done_bytes) / item.bytes_per_second
            if item.total_bytes and item.bytes_per_second > 0
            else None
        )
        return f"{done} of {total} · {format_bytes(item.bytes_per_second)}/s · {format_duration(eta)} left"
    if item.state == "paused":
        return f"Paused at {done} of {total}"
    if item.state == "failed":
        return f"Failed: {item.error}"
    return f"Waiting · {total}"


class DownloadsModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.items: list[DownloadItem] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self.items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.label
        if role == StatusRole:
            return status_text(item)
        if role == ItemRole:
            return item
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{item.repo_id}: {item.wanted}\n{status_text(item)}"
        return None

    def set_items(self, items: list[DownloadItem]) -> None:
        self.beginResetModel()
        self.items = items
        self.endResetModel()

    def append(self, item: DownloadItem) -> None:
        self.beginInsertRows(QModelIndex(), len(self.items), len(self.items))
        self.items.append(item)
        self.endInsertRows()

    def remove(self, item: DownloadItem) -> None:
        row = self.items.index(item)
        self.beginRemoveRows(QModelIndex(), row, row)
        del self.items[row]
        self.endRemoveRows()

    def changed(self, item: DownloadItem) -> None:
        row = self.items.index(item)
        self.dataChanged.emit(self.index(row), self.index(row))


class DownloadManager(QObject):
    """Runs the queue in order, one download at a time; pauses keep partial data for a resume."""

    finished = Signal(str)  # path in the library
    failed = Signal(str)  # message
    cancelled = Signal()
    busy_changed = Signal(bool)
    storage_problem = Signal(object)  # StorageError: the queue's file can't be read or written

    _progress = Signal(object)
    _outcome = Signal(object)

    def __init__(self, queue_file: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue_file = queue_file
        self.model = DownloadsModel(self)
        self.problem: StorageError | None = None
        try:
            self.model.set_items(load_queue(queue_file))
        except StorageError as exc:
            self.problem = exc  # said by the window once it is built
        self._job: DownloadProcess | None = None
        self._running: DownloadItem | None = None
        self._pausing = False
        self._progress.connect(self._on_progress)
        self._outcome.connect(self._on_outcome)

    def enqueue(self, repo_id: str, wanted: str, label: str, total_bytes: int | None) -> DownloadItem | None:
        """None when the same thing is already in the queue."""
        if any(i.repo_id == repo_id and i.wanted == wanted for i in self.model.items):
            return None
        item = DownloadItem(repo_id, wanted, label, total_bytes)
        self.model.append(item)
        self._save()
        self._start_next()
        return item

    def pause(self, item: DownloadItem) -> None:
        if item is self._running and self._job is not None:
            self._pausing = True
            self._job.cancel(keep_partial=True)
        elif item.state == "queued":
            item.state = "paused"
            self.model.changed(item)
            self._save()

    def resume(self, item: DownloadItem) -> None:
        if item.state in ("paused", "failed"):
            item.state, item.error = "queued", None
            self.model.changed(item)
            self._save()
            self._start_next()

    def cancel(self, item: DownloadItem) -> None:
        if item is self._running and self._job is not None:
            self._pausing = False
            self._job.cancel(keep_partial=False)  # the outcome removes it
            return
        self.model.remove(item)
        self._save()
        from desktop.hub.download_process import discard_partials

        discard_partials(item.repo_id, item.wanted)
        self.cancelled.emit()

    def shutdown(self) -> None:
        """Closing the app pauses the running download; it resumes after a restart."""
        job, item = self._job, self._running
        if job is not None and item is not None:
            self._pausing = True
            job.cancel(keep_partial=True)
            job.wait(5)
            item.state = "paused"
        self._save()

    def _start_next(self) -> None:
        if self._job is not None:
            return
        item = next((i for i in self.model.items if i.state == "queued"), None)
        if item is None:
            self.busy_changed.emit(False)
            return
        item.state, item.bytes_per_second = "downloading", 0.0
        self._running = item
        self._pausing = False
        self.model.changed(item)
        self._save()
        self.busy_changed.emit(True)
        from desktop.hub.download_process import DownloadProcess

        self._job = DownloadProcess(
            item.repo_id, item.wanted, on_progress=self._progress.emit, on_finished=self._outcome.emit
        )

    def _on_progress(self, progress: DownloadProgress) -> None:
        item = self._running
        if item is None:
            return
        item.done_bytes = progress.done_bytes
        item.total_bytes = progress.total_bytes or item.total_bytes
        item.bytes_per_second = progress.bytes_per_second
        self.model.changed(item)

    def _on_outcome(self, outcome: DownloadOutcome) -> None:
        item, self._running, self._job = self._running, None, None
        if item is not None:
            if outcome.path is not None:
                self.model.remove(item)
                self.finished.emit(str(outcome.path))
            elif outcome.cancelled and self._pausing:
                item.state, item.bytes_per_second = "paused", 0.0
                self.model.changed(item)
            elif outcome.cancelled:
                self.model.remove(item)
                self.cancelled.emit()
            else:
                item.state, item.error, item.bytes_per_second = "failed", outcome.error, 0.0
                self.model.changed(item)
                self.failed.emit(outcome.error or "The download failed.")
        self._pausing = False
        self._save()
        self._start_next()

    def _save(self) -> None:
        try:
            save_queue(self._queue_file, self.model.items)
        except StorageError as exc:  # the queue goes on in memory
            self.problem = exc
            self.storage_problem.emit(exc)
