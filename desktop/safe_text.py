"""Text from strangers (Hub answers, model headers) made safe to show and to use as a file name.

A terminal obeys escape sequences in what it prints, and a list or label can be made to lie
with bidirectional overrides; such characters are shown as visible escapes instead. Whoever
reads text from outside Hearth passes it through ``printable`` once, so every front end gets
safe text without escaping it again.
"""

from __future__ import annotations

import unicodedata

# A name component longer than this many bytes is refused by ext4, APFS, NTFS and the rest.
NAME_MAX_BYTES = 255

# Unicode "format" characters that reorder or hide text, not the ones that join emoji.
_REORDERING = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unsafe(char: str) -> bool:
    if char in _REORDERING:
        return True
    return unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs")


def printable(text: str) -> str:
    """``text`` with control, line-breaking and reordering characters written as escapes."""
    if text.isprintable() and not any(c in _REORDERING for c in text):
        return text  # the usual case, checked at C speed
    out = []
    for char in text:
        if _unsafe(char):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def name_problem(name: str, *, max_bytes: int = NAME_MAX_BYTES) -> str | None:
    """Why ``name`` (a path relative to a folder, ``/`` between parts) is no safe file name, or None.

    ``max_bytes`` is the longest part allowed: less than the file system's limit where a
    suffix is added to the name (a download's ``.part``).
    """
    if not name:
        return "it is empty"
    if any(_unsafe(c) for c in name):
        return "it contains control characters"
    if name.startswith("/") or "\\" in name:
        return "it is not a plain relative path"
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "it would leave its folder"
    if any(len(p.encode("utf-8", "surrogatepass")) > max_bytes for p in parts):
        return f"a part of it is longer than the {max_bytes} bytes Hearth can give a file name"
    return None
