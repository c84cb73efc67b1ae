"""The download queue at work: one download at a time in order, pause keeping the partial
file for a resume, cancel removing it, the queue kept across restarts.

Qt-free. Downloads report on a background thread; ``deliver`` hands each report to the
owner's thread (the window passes a queued signal; a test or a script may pump a queue), and
every callback of ``QueueEvents`` runs there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.db import StorageError
from desktop.hub.download_queue import DownloadItem, load_queue, save_queue

if TYPE_CHECKING:
    # Imported when a download starts or is cancelled, not with the window.
    from desktop.hub.download import DownloadProgress
    from desktop.hub.download_process import DownloadOutcome, DownloadProcess


def _nothing(*_: object) -> None:
    return None


@dataclass
class QueueEvents:
    """What the queue tells its owner; each runs on the owner's thread."""

    added: Callable[[DownloadItem], None] = _nothing  # after it joined the end of the queue
    removed: Callable[[DownloadItem], None] = _nothing
    changed: Callable[[DownloadItem], None] = _nothing  # its state or progress
    finished: Callable[[str], None] = _nothing  # the file's path in the library
    failed: Callable[[str], None] = _nothing  # why, in words
    cancelled: Callable[[], None] = _nothing
    busy_changed: Callable[[bool], None] = _nothing
    storage_problem: Callable[[StorageError], None] = _nothing  # the queue goes on in memory


class DownloadQueue:
    def __init__(
        self,
        queue_file: Path,
        events: QueueEvents,
        deliver: Callable[[Callable[[], None]], None],
    ) -> None:
        self._file = queue_file
        self._events = events
        self._deliver = deliver
        self.problem: StorageError | None = None  # why the queue's file can't be used
        try:
            self.items: list[DownloadItem] = load_queue(queue_file)
        except StorageError as exc:
            self.items = []
            self.problem = exc  # the owner says it once it can
        self._job: DownloadProcess | None = None
        self._running: DownloadItem | None = None
        self._pausing = False

    @property
    def running(self) -> DownloadItem | None:
        return self._running

    def enqueue(self, repo_id: str, wanted: str, label: str, total_bytes: int | None) -> DownloadItem | None:
        """None when the same thing is already in the queue."""
        if any(i.repo_id == repo_id and i.wanted == wanted for i in self.items):
            return None
        item = DownloadItem(repo_id, wanted, label, total_bytes)
        self.items.append(item)
        self._events.added(item)
        self._save()
        self._start_next()
        return item

    def pause(self, item: DownloadItem) -> None:
        if item is self._running and self._job is not None:
            self._pausing = True
            self._job.cancel(keep_partial=True)
        elif item.state == "queued":
            item.state = "paused"
            self._events.changed(item)
            self._save()

    def resume(self, item: DownloadItem) -> None:
        if item.state in ("paused", "failed"):
            item.state, item.error = "queued", None
            self._events.changed(item)
            self._save()
            self._start_next()

    def cancel(self, item: DownloadItem) -> None:
        if item is self._running and self._job is not None:
            self._pausing = False
            self._job.cancel(keep_partial=False)  # the outcome removes it
            return
        self._remove(item)
        self._save()
        from desktop.hub.download_process import discard_partials

        discard_partials(item.repo_id, item.wanted)
        self._events.cancelled()

    def shutdown(self) -> None:
        """Closing the app pauses the running download; it resumes after a restart."""
        job, item = self._job, self._running
        if job is not None and item is not None:
            self._pausing = True
            job.cancel(keep_partial=True)
            job.wait(5)
            item.state = "paused"
        self._save()

    def _remove(self, item: DownloadItem) -> None:
        self.items.remove(item)
        self._events.removed(item)

    def _start_next(self) -> None:
        if self._job is not None:
            return
        item = next((i for i in self.items if i.state == "queued"), None)
        if item is None:
            self._events.busy_changed(False)
            return
        item.state, item.bytes_per_second = "downloading", 0.0
        self._running = item
        self._pausing = False
        self._events.changed(item)
        self._save()
        self._events.busy_changed(True)
        from desktop.hub.download_process import DownloadProcess

        self._job = DownloadProcess(
            item.repo_id,
            item.wanted,
            on_progress=lambda progress: self._deliver(lambda: self._on_progress(item, progress)),
            on_finished=lambda outcome: self._deliver(lambda: self._on_outcome(item, outcome)),
        )

    def _on_progress(self, item: DownloadItem, progress: DownloadProgress) -> None:
        if item is not self._running:
            return  # a late report of a download that has ended
        item.verifying = progress.stage == "verifying"
        item.done_bytes = progress.done_bytes
        item.total_bytes = progress.total_bytes or item.total_bytes
        item.bytes_per_second = progress.bytes_per_second
        self._events.changed(item)

    def _on_outcome(self, item: DownloadItem, outcome: DownloadOutcome) -> None:
        if item is not self._running:
            return
        self._running, self._job = None, None
        if outcome.path is not None:
            self._remove(item)
            self._events.finished(str(outcome.path))
        elif outcome.cancelled and self._pausing:
            item.state, item.bytes_per_second = "paused", 0.0
            self._events.changed(item)
        elif outcome.cancelled:
            self._remove(item)
            self._events.cancelled()
        else:
            item.state, item.error, item.bytes_per_second = "failed", outcome.error, 0.0
            self._events.changed(item)
            self._events.failed(outcome.error or "The download failed.")
        self._pausing = False
        self._save()
        self._start_next()

    def _save(self) -> None:
        try:
            save_queue(self._file, self.items)
        except StorageError as exc:  # the queue goes on in memory
            self.problem = exc
            self._events.storage_problem(exc)
