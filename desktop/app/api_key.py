"""The local server's API key: made for the person, shown once, kept in a file only they can
read (mode 0600, beside the settings), replaceable. The settings file holds no secret."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from desktop.paths import HearthPaths

FILE_NAME = "server-api-key"
PREFIX = "hearth-"


def key_file(paths: HearthPaths) -> Path:
    return paths.config_dir / FILE_NAME


def read_key(paths: HearthPaths) -> str | None:
    """The kept key; None when there is none (or it cannot be read)."""
    try:
        text = key_file(paths).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def new_key(paths: HearthPaths) -> str:
    """A new random key, kept in place of the old one (written whole, readable by its owner
    only, before it replaces the old); OSError when it cannot be kept."""
    key = PREFIX + secrets.token_urlsafe(32)
    target = key_file(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(key + "\n")
        f.flush()
        os.fsync(f.fileno())
    partial.replace(target)
    return key


def forget_key(paths: HearthPaths) -> None:
    with contextlib.suppress(FileNotFoundError):
        key_file(paths).unlink()
