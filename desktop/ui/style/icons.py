"""Hearth's line icons: 24x24 SVGs in ``resources/icons`` drawn in a colour of the theme.

``icon("copy")`` draws in the theme's text colour, ``icon("warning", "warning")`` in a colour
token (any field of ``Colours``), ``icon("check", "#1a7431")`` in a fixed colour. The colour is
looked up when the icon is painted, not when it is made, so a theme switch redraws every button
and list cell in the new colours without anyone setting its icon again. Disabled icons are drawn
in the dim token; an icon in a selected list row, in the selection's text colour unless it has
its own colour.

Each drawing is rendered from the SVG at the size asked for times the screen's pixel ratio (a
24 px icon on a 200% screen is a 48x48 pixmap), never scaled from a smaller one, and kept.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import fields

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QIconEngine, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from desktop.ui.style.svg import line_icon_names, line_icon_svg
from desktop.ui.style.theme import current
from desktop.ui.style.tokens import Colours

_TOKENS = frozenset(f.name for f in fields(Colours) if f.name != "dark")
_MOST_KEPT = 1024  # rendered drawings kept: every icon of a few sizes in both themes


def icon_names() -> list[str]:
    """Every line icon there is, by name (the SVG's file name without ``.svg``)."""
    return line_icon_names()


def _resolve(colour: str | None, mode: QIcon.Mode) -> str:
    c = current()
    if mode == QIcon.Mode.Disabled:
        return c.text_dim
    if colour is None:
        return c.on_selection if mode == QIcon.Mode.Selected else c.text
    if colour in _TOKENS:
        return str(getattr(c, colour))
    return colour


_rendered: OrderedDict[tuple[str, str, int, float], QImage] = OrderedDict()


def _render(name: str, colour: str, side: int, scale: float) -> QImage:
    """Icon ``name`` in ``colour``, ``side`` logical pixels square at ``scale`` device pixels each."""
    key = (name, colour, side, scale)
    image = _rendered.get(key)
    if image is not None:
        _rendered.move_to_end(key)
        return image
    pixels = max(1, round(side * scale))
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    renderer = QSvgRenderer(QByteArray(line_icon_svg(name, colour).encode("utf-8")))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, pixels, pixels))
    painter.end()
    image.setDevicePixelRatio(scale)
    _rendered[key] = image
    if len(_rendered) > _MOST_KEPT:
        _rendered.popitem(last=False)
    return image


class LineIconEngine(QIconEngine):
    """Draws one line icon in a colour read from the theme each time it is painted."""

    def __init__(self, name: str, colour: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.colour = colour

    def colour_for(self, mode: QIcon.Mode) -> str:
        """The colour this icon is drawn in now, in ``mode``."""
        return _resolve(self.colour, mode)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        side = min(size.width(), size.height())  # square, as large as the size asked for allows
        return QPixmap.fromImage(_render(self.name, self.colour_for(mode), side, scale))

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        device = painter.device()
        scale = device.devicePixelRatioF() if device is not None else 1.0
        side = min(rect.width(), rect.height())
        square = QRect(0, 0, side, side)
        square.moveCenter(rect.center())
        painter.drawPixmap(square, self.scaledPixmap(square.size(), mode, state, scale))

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:
        side = min(size.width(), size.height())
        return QSize(side, side)

    def clone(self) -> QIconEngine:
        return LineIconEngine(self.name, self.colour)

    def key(self) -> str:
        return "hearth-line-icon"

    def iconName(self) -> str:
        return self.name

    def isNull(self) -> bool:
        return False


def icon(name: str, colour: str | None = None) -> QIcon:
    """Line icon ``name`` in the theme's text colour, or in ``colour``: a token name
    ("warning") or ``#rrggbb``. Unknown names raise KeyError: a mistake in the code."""
    line_icon_svg(name, "#000000")  # KeyError now, not when first painted
    if colour is not None and colour not in _TOKENS and not _is_hex(colour):
        raise ValueError(f"not a colour token or #rrggbb: {colour!r}")
    return QIcon(LineIconEngine(name, colour))


def _is_hex(colour: str) -> bool:
    return len(colour) == 7 and colour[0] == "#" and all(ch in "0123456789abcdefABCDEF" for ch in colour[1:])
