"""The download queue without a window (desktop.app.downloads): real downloads from the fake
Hub in child processes, reports pumped on this thread as the window's event loop would."""

from __future__ import annotations

import contextlib
import json
import queue
import time
from collections.abc import Callable
from pathlib import Path

from desktop.app.downloads import DownloadQueue, QueueEvents
from desktop.hub.download_queue import DownloadItem
from desktop.paths import hearth_paths
from tests.conftest import TEST_REPO
from tests.fakehub import FakeHub, Fault
from tests.news import News

__all__: list[str] = []


class Owner:
    """What a front end is to the queue: it hears the news and runs reports on its thread."""

    def __init__(self) -> None:
        self.reports: queue.Queue[Callable[[], None]] = queue.Queue()
        self.news = News()

    def events(self) -> QueueEvents:
        note = self.news.note
        return QueueEvents(
            added=note("added"),
            removed=note("removed"),
            finished=note("finished"),
            failed=note("failed"),
            cancelled=note("cancelled"),
            busy_changed=note("busy"),
            storage_problem=note("storage"),
        )

    def pump_until(self, done: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, f"still waiting; news so far: {self.news}"
            with contextlib.suppress(queue.Empty):
                self.reports.get(timeout=0.05)()


def make_queue(owner: Owner) -> DownloadQueue:
    return DownloadQueue(hearth_paths().downloads_file, owner.events(), owner.reports.put)


def test_one_download_at_a_time_in_order(fake_hub: FakeHub, models_dir: Path) -> None:
    owner = Owner()
    downloads = make_queue(owner)
    first = downloads.enqueue(TEST_REPO, "tiny-llama-F32.gguf", "F32", None)
    second = downloads.enqueue(TEST_REPO, "Q8_0", "Q8_0", None)
    assert first is not None and second is not None
    assert downloads.enqueue(TEST_REPO, "Q8_0", "Q8_0 again", None) is None  # already queued
    assert (first.state, second.state) == ("downloading", "queued")
    owner.pump_until(lambda: not downloads.items)
    finished = [Path(str(path)).name for kind, path in owner.news if kind == "finished"]
    assert finished == ["tiny-llama-F32.gguf", "tiny-llama.Q8_0.gguf"]
    assert owner.news[-1] == ("busy", False)
    assert json.loads(hearth_paths().downloads_file.read_text()) == []


def test_pause_survives_a_restart_and_resumes_where_it_stopped(fake_hub: FakeHub, models_dir: Path) -> None:
    data = bytes(range(256)) * 24_000  # about 6 MB
    fake_hub.add_file(TEST_REPO, "big-Q4_K_M.gguf", b"GGUF" + data)
    fake_hub.set_fault(TEST_REPO, "big-Q4_K_M.gguf", Fault(bytes_per_second=2_000_000))
    owner = Owner()
    downloads = make_queue(owner)
    item = downloads.enqueue(TEST_REPO, "big-Q4_K_M.gguf", "Q4_K_M", None)
    assert item is not None
    owner.pump_until(lambda: item.done_bytes > 1_000_000)
    downloads.pause(item)
    owner.pump_until(lambda: item.state == "paused")
    kept = item.done_bytes
    downloads.shutdown()

    owner = Owner()
    again = make_queue(owner)  # Hearth started again
    [back] = again.items
    assert isinstance(back, DownloadItem) and back.state == "paused" and back.id == item.id
    fake_hub.set_fault(TEST_REPO, "big-Q4_K_M.gguf", None)
    again.resume(back)
    owner.pump_until(lambda: not again.items)
    assert (models_dir / TEST_REPO / "big-Q4_K_M.gguf").read_bytes() == b"GGUF" + data
    assert int(fake_hub.ranges[-1].removeprefix("bytes=").rstrip("-")) >= kept - 256 * 1024


def test_a_failed_download_says_why_and_can_be_tried_again(fake_hub: FakeHub, models_dir: Path) -> None:
    owner = Owner()
    downloads = make_queue(owner)
    item = downloads.enqueue(TEST_REPO, "no-such-file.gguf", "missing", None)
    assert item is not None
    owner.pump_until(lambda: item.state == "failed")
    [(_kind, message)] = [n for n in owner.news if n[0] == "failed"]
    assert "'no-such-file.gguf' is neither a file nor a quant of" in str(message)
    assert item.error == message and downloads.running is None
    downloads.resume(item)  # tried again: it fails again, in the same words
    owner.pump_until(lambda: len([n for n in owner.news if n[0] == "failed"]) == 2)
    assert item.state == "failed" and [d.id for d in downloads.items] == [item.id]
