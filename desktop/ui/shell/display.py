"""Whether the window has a display to open on, asked before Qt is loaded: without one, Qt's
xcb plugin aborts the process with a core dump and a page about plugins."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence


def missing_display(env: Mapping[str, str], argv: Sequence[str], platform: str = sys.platform) -> str | None:
    """Why no window can open, in one line, or None. Only Linux and the BSDs need a display
    server; an explicit Qt platform (``QT_QPA_PLATFORM``, ``-platform``) is left to Qt."""
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    if env.get("QT_QPA_PLATFORM") or any(a.startswith("-platform") for a in argv):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return (
        "no display to open Hearth's window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
        "the command line works without one: `hearth --help` lists its commands"
    )
