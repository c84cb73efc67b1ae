"""Hearth's small JSON files (settings, the download queue): read in words, written atomically,
and never saved over when they could not be read.

A file that fails to load gives defaults for this run, but it stays as it is until the
person moves it aside: saving over it would lose what they had.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from desktop.db import StorageError, storage_error


def read_json(path: Path, label: str, shape: type) -> Any:
    """The file's value; None when there is no file. Raises StorageError when it can't be used
    (unreadable, not JSON, or JSON of another shape than ``shape``)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise storage_error(path, exc, label) from exc
    try:
        value = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        reason = "it is cut short" if raw.strip() and not raw.rstrip().endswith((b"}", b"]")) else str(exc)
        raise _damaged(path, label, f"not readable JSON: {reason}") from exc
    if not isinstance(value, shape):
        raise _damaged(path, label, f"it holds a {type(value).__name__}, not Hearth's {label}")
    return value


def _damaged(path: Path, label: str, why: str) -> StorageError:
    return StorageError(
        path,
        "damaged",
        f"The {label} file {path} is damaged ({why}). Hearth is using defaults and will not save over "
        "it: move it aside to keep your changes from now on.",
    )


def write_json(path: Path, value: Any, label: str, shape: type) -> None:
    """Writes atomically (a crash mid-save keeps the previous file); raises StorageError, the
    old file kept, when the disk is full or read-only or the old file could not be read."""
    read_json(path, label, shape)  # a file that did not load is the person's: not saved over
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(value, out, indent=2, sort_keys=True)
        Path(tmp).replace(path)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
        raise storage_error(path, exc, label) from exc
