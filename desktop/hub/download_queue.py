"""The download queue as data: what is queued, running, paused or failed, kept across restarts."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Literal

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
    error: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done_bytes / self.total_bytes) if self.total_bytes else None


def load_queue(path: Path) -> list[DownloadItem]:
    """A download that was running when Hearth stopped comes back paused: it resumes on request."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    names = {f.name for f in fields(DownloadItem)}
    items: list[DownloadItem] = []
    for entry in raw if isinstance(raw, list) else []:
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".downloads-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump([asdict(i) for i in items], out, indent=2)
    Path(tmp).replace(path)
