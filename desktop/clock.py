"""The one way Hearth writes a moment: UTC, ISO 8601 with a ``Z``, so stored times sort as text
and read the same on every machine."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal


def utc_stamp(timespec: Literal["seconds", "milliseconds"] = "seconds") -> str:
    """Now, e.g. ``2026-12-05T14:10:19Z`` (milliseconds where order within a second matters:
    the messages of a chat)."""
    return datetime.now(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")
