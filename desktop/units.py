"""Numbers as people read them: sizes, counts, durations."""

from __future__ import annotations


def format_bytes(n: float | None) -> str:
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def format_count(n: int | None) -> str:
    """Parameter and download counts: 1.2B, 270M, 45.3K."""
    if n is None:
        return "—"
    for factor, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= factor:
            return f"{n / factor:.1f}".rstrip("0").rstrip(".") + suffix
    return str(n)


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "—"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def format_ms(ms: float) -> str:
    """A short wait in milliseconds, a longer one in seconds: "850 ms", "1.2 s"."""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def count_of(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun agreeing with it: "1 model", "3 models", "0 models"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
