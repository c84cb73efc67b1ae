"""The download queue as data: what is queued, running, paused or failed, kept across restarts."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Literal

from desktop.json_file import read_json, write_json

LABEL = "download queue"

State = Literal["queued", "downloading", "paused", "failed"]


@dataclass
class DownloadItem:
    repo_id: str
    wanted: str  # a file name or a quant label: what `pull` takes
    label: str  # what the list shows
    total_bytes: int | None = None
    done_bytes: int = 0
    bytes_per_second: float = 0.0
    state: State = "queued"
    verifying: bool = False  # hashing what is already on disk (done and total: that file's bytes)
    error: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done_bytes / self.total_bytes) if self.total_bytes else None


def load_queue(path: Path) -> list[DownloadItem]:
    """A download that was running when Hearth stopped comes back paused: it resumes on request.

    Raises StorageError when the file can't be read (``save_queue`` then leaves it alone)."""
    raw = read_json(path, LABEL, list) or []
    names = {f.name for f in fields(DownloadItem)}
    items: list[DownloadItem] = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        try:
            item = DownloadItem(**{k: v for k, v in entry.items() if k in names})
        except TypeError:
            continue
        if item.state == "downloading":
            item.state = "paused"
        item.bytes_per_second = 0.0
        items.append(item)
    return items


def save_queue(path: Path, items: list[DownloadItem]) -> None:
    """Atomic; raises StorageError (the old file kept) as ``write_json`` does."""
    write_json(path, [asdict(i) for i in items], LABEL, list)
