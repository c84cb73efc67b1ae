"""Bringing a GGUF file into the library: copy, move or link it into Hearth's models folder."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from desktop.gguf.header import BrokenModel, read_header
from desktop.gguf.names import is_gguf

ImportMode = Literal["copy", "move", "link"]
IMPORTED_FOLDER = "local"  # <models>/local/imported/<file>, beside the Hub's <owner>/<repo>


class ImportRefused(Exception):
    """An import that cannot be done, with a message fit to show as it is."""


def import_model(
    source: Path,
    models_dir: Path,
    mode: ImportMode,
    on_bytes: Callable[[int, int], None] | None = None,
) -> Path:
    """Put ``source`` in the library and return its path there. Refuses a file that is not GGUF."""
    if not source.is_file() or not is_gguf(source.name):
        raise ImportRefused(f"{source.name} is not a .gguf file.")
    try:
        read_header(source)
    except BrokenModel as exc:
        raise ImportRefused(f"{source.name} can't be imported: {exc}.") from exc
    target = models_dir / IMPORTED_FOLDER / "imported" / source.name
    if target.exists():
        raise ImportRefused(f"The library already has a file named {source.name}.")
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode == "link":
        target.symlink_to(source.resolve())
    elif mode == "move":
        shutil.move(str(source), target)
    else:
        _copy(source, target, on_bytes)
    return target


def _copy(source: Path, target: Path, on_bytes: Callable[[int, int], None] | None) -> None:
    """Copy under a temporary name: the library never lists half a file."""
    partial = target.with_name(target.name + ".importing")
    total = source.stat().st_size
    done = 0
    try:
        with source.open("rb") as src, partial.open("wb") as dst:
            while chunk := src.read(8 * 1024 * 1024):
                dst.write(chunk)
                done += len(chunk)
                if on_bytes:
                    on_bytes(done, total)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
