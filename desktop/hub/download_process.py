"""Downloads in a process of their own, so Cancel works at once on every transfer path.

huggingface_hub has no cancel API, and on the Xet path exceptions from progress callbacks
are swallowed; ending the process is the one cancel that always works.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from desktop.childproc import ChildProcess, Event, ParentLink, describe_exit
from desktop.hub.download import DownloadProgress, discard_partial, download_to_library
from desktop.paths import hearth_paths
from desktop.settings import load_settings

SUBCOMMAND = "_download"


@dataclass(frozen=True)
class DownloadOutcome:
    path: Path | None  # set when the file is in the library
    error: str | None  # set when it failed
    cancelled: bool = False


def child_main(repo_id: str, filename: str) -> int:
    """Runs in the child: one download, reported as events."""
    link = ParentLink()
    link.exit_when_parent_dies()
    paths = hearth_paths()
    settings = load_settings(paths)

    def progress(p: DownloadProgress) -> None:
        link.emit({"event": "progress", **asdict(p)})

    try:
        path = download_to_library(
            repo_id,
            filename,
            models_dir=settings.resolved_models_dir(paths),
            staging_dir=paths.staging_dir,
            on_progress=progress,
        )
    except Exception as exc:
        link.emit({"event": "error", "message": str(exc)})
        return 1
    link.emit({"event": "done", "path": str(path)})
    return 0


class DownloadProcess:
    """One download running in a child process; callbacks arrive on a background thread."""

    def __init__(
        self,
        repo_id: str,
        filename: str,
        *,
        on_progress: Callable[[DownloadProgress], None],
        on_finished: Callable[[DownloadOutcome], None],
    ) -> None:
        self.repo_id = repo_id
        self.filename = filename
        self._on_progress = on_progress
        self._on_finished = on_finished
        self._cancelled = threading.Event()
        self._child = ChildProcess(SUBCOMMAND, repo_id, filename)
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._cancelled.set()
        self._child.kill()

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _pump(self) -> None:
        outcome: DownloadOutcome | None = None
        for event in self._child.events():
            outcome = self._handle(event) or outcome
        self._child.wait()
        if self._cancelled.is_set():
            discard_partial(hearth_paths().staging_dir, self.repo_id, self.filename)
            outcome = DownloadOutcome(None, None, cancelled=True)
        elif outcome is None:
            reason = describe_exit(self._child.poll())
            tail = "; ".join(self._child.stderr_tail()[-3:])
            outcome = DownloadOutcome(None, f"The download process {reason}. {tail}".strip())
        self._on_finished(outcome)

    def _handle(self, event: Event) -> DownloadOutcome | None:
        kind = event.get("event")
        if kind == "progress":
            self._on_progress(
                DownloadProgress(
                    int(event["done_bytes"]), event.get("total_bytes"), float(event["bytes_per_second"])
                )
            )
        elif kind == "done":
            return DownloadOutcome(Path(event["path"]), None)
        elif kind == "error":
            return DownloadOutcome(None, str(event["message"]))
        return None
