"""The line icons' SVG files (``resources/icons``) as text, in a colour: read by the icons and by
the style sheet (a check box's mark is an image file)."""

from __future__ import annotations

from functools import cache

from desktop.resources import resource_path

NOT_LINE_ICONS = frozenset({"hearth"})  # the app's own icon, in its own colours


def line_icon_names() -> list[str]:
    return sorted(p.stem for p in resource_path("icons").glob("*.svg") if p.stem not in NOT_LINE_ICONS)


@cache
def _source(name: str) -> str:
    path = resource_path("icons", f"{name}.svg")
    if name in NOT_LINE_ICONS or not path.is_file():
        raise KeyError(name)
    return str(path.read_text(encoding="utf-8"))


def line_icon_svg(name: str, colour: str, stroke_width: float | None = None) -> str:
    """Icon ``name``'s SVG drawn in ``colour`` (``#rrggbb``), its lines ``stroke_width`` wide on
    the 24-unit grid if given (a bolder mark for a small check box). KeyError: no such icon."""
    text = _source(name).replace("currentColor", colour)
    if stroke_width is not None:
        text = text.replace('stroke-width="2"', f'stroke-width="{stroke_width:g}"', 1)
    return text
