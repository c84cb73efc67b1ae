"""Downloads in a process of their own, so Cancel works at once on every transfer path.

huggingface_hub has no cancel API, and on the Xet path exceptions from progress callbacks
are swallowed; ending the process is the one cancel that always works.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from desktop.childproc import ChildProcess, Event, ParentLink, describe_exit
from desktop.gguf.names import parse_shard, quant_from_name
from desktop.hub.download import DownloadProgress, discard_partial, pull
from desktop.paths import hearth_paths

SUBCOMMAND = "_download"


@dataclass(frozen=True)
class DownloadOutcome:
    path: Path | None  # set when the file is in the library
    error: str | None  # set when it failed
    cancelled: bool = False


def child_main(repo_id: str, wanted: str) -> int:
    """Runs in the child: one download (a file, or all shards of a quant), reported as events."""
    link = ParentLink()
    link.exit_when_parent_dies()

    def progress(p: DownloadProgress) -> None:
        link.emit({"event": "progress", **asdict(p)})

    try:
        path = pull(repo_id, wanted, on_progress=progress)
    except Exception as exc:
        link.emit({"event": "error", "message": str(exc)})
        return 1
    link.emit({"event": "done", "path": str(path)})
    return 0


def discard_partials(repo_id: str, wanted: str) -> None:
    """Forget the partial data of a download (every shard of a quant), from local files only."""
    staging = hearth_paths().staging_dir
    folder = staging / repo_id
    wanted_shard = parse_shard(wanted)
    for part in folder.rglob("*.part") if folder.is_dir() else []:
        name = part.relative_to(folder).as_posix().removesuffix(".part")
        shard = parse_shard(name)
        if (
            name == wanted
            or (quant_from_name(name) or "").upper() == wanted.upper()
            or (shard and wanted_shard and shard.stem == wanted_shard.stem)
        ):
            discard_partial(staging, repo_id, name)


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
        self._keep_partial = False
        self._child = ChildProcess(SUBCOMMAND, repo_id, filename)
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def cancel(self, *, keep_partial: bool = False) -> None:
        """Stop at once. With keep_partial (a pause), the next start resumes from here."""
        self._keep_partial = keep_partial
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
            if not self._keep_partial:
                self._discard()
            outcome = DownloadOutcome(None, None, cancelled=True)
        elif outcome is None:
            reason = describe_exit(self._child.poll())
            tail = "; ".join(self._child.stderr_tail()[-3:])
            outcome = DownloadOutcome(None, f"The download process {reason}. {tail}".strip())
        with contextlib.suppress(RuntimeError):  # whoever asked is gone (a window closed mid-download)
            self._on_finished(outcome)

    def _discard(self) -> None:
        discard_partials(self.repo_id, self.filename)

    def _report_progress(self, progress: DownloadProgress) -> None:
        with contextlib.suppress(RuntimeError):  # whoever asked is gone
            self._on_progress(progress)

    def _handle(self, event: Event) -> DownloadOutcome | None:
        kind = event.get("event")
        if kind == "progress":
            self._report_progress(
                DownloadProgress(
                    int(event["done_bytes"]),
                    event.get("total_bytes"),
                    float(event["bytes_per_second"]),
                    str(event.get("stage", "downloading")),
                )
            )
        elif kind == "done":
            return DownloadOutcome(Path(event["path"]), None)
        elif kind == "error":
            return DownloadOutcome(None, str(event["message"]))
        return None
