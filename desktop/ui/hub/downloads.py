"""The download queue in the window: its list model, and the queue's news as signals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from desktop.app.downloads import DownloadQueue, QueueEvents
from desktop.db import StorageError
from desktop.hub.download_queue import DownloadItem
from desktop.units import format_bytes, format_duration

Index = QModelIndex | QPersistentModelIndex
ItemRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2


def status_text(item: DownloadItem) -> str:
    done, total = format_bytes(item.done_bytes), format_bytes(item.total_bytes)
    if item.state == "downloading":
        if item.verifying:
            return f"Verifying sha256 · {done} of {total}"
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
    """The queue's items as a list view shows them (a copy of the list, kept in step)."""

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
        self.items = list(items)
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
    """The window's side of the download queue (desktop.app.downloads): its list model and
    its news as signals, on the GUI thread."""

    finished = Signal(str)  # path in the library
    failed = Signal(str)  # message
    cancelled = Signal()
    busy_changed = Signal(bool)
    storage_problem = Signal(object)  # StorageError: the queue's file can't be read or written

    _deliver = Signal(object)  # a report from a download's thread, run on the GUI thread

    def __init__(self, queue_file: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = DownloadsModel(self)
        self._deliver.connect(lambda run: run())
        events = QueueEvents(
            added=self.model.append,
            removed=self.model.remove,
            changed=self.model.changed,
            finished=self.finished.emit,
            failed=self.failed.emit,
            cancelled=self.cancelled.emit,
            busy_changed=self.busy_changed.emit,
            storage_problem=self.storage_problem.emit,
        )
        self.queue = DownloadQueue(queue_file, events, self._deliver.emit)
        self.model.set_items(self.queue.items)
        self.enqueue = self.queue.enqueue
        self.pause = self.queue.pause
        self.resume = self.queue.resume
        self.cancel = self.queue.cancel
        self.shutdown = self.queue.shutdown

    @property
    def problem(self) -> StorageError | None:
        return self.queue.problem
