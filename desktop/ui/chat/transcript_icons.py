"""The transcript's small icons (copy, edit, regenerate, branch arrows, thinking chevrons):
SVG drawn in the theme's colours into images the transcript's document holds as
``icon:NAME`` resources.

Drawn at twice their size or more (the screen's own ratio where it is higher), so they stay
crisp on a 200% display; the HTML gives their size in logical pixels.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QByteArray, Qt, QUrl
from PySide6.QtGui import QImage, QPainter, QTextDocument
from PySide6.QtSvg import QSvgRenderer

from desktop.chats.message_html import ICON_SIZE, ICONS, Theme

MIN_RATIO = 2.0

_STROKE = 'fill="none" stroke="{colour}" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"'
# 24-unit grid, drawn as lines in the icon's colour.
_SHAPES: dict[str, str] = {
    "copy": '<rect x="8.5" y="8.5" width="12" height="12" rx="2.5"/>'
    '<path d="M15.5 5.5v-0.5a2 2 0 0 0-2-2h-8.5a2 2 0 0 0-2 2v8.5a2 2 0 0 0 2 2h0.5"/>',
    "edit": '<path d="M4 20h4.2L19.4 8.8a2.1 2.1 0 0 0 0-3L18.2 4.6a2.1 2.1 0 0 0-3 0L4 15.8z"/>'
    '<path d="M13.5 6.5l4 4"/>',
    "regenerate": '<path d="M19.5 12a7.5 7.5 0 1 1-2.2-5.3"/><path d="M19.5 4v4.5h-4.5"/>',
    "previous": '<path d="M14.5 6l-6 6 6 6"/>',
    "next": '<path d="M9.5 6l6 6-6 6"/>',
    "expand": '<path d="M9.5 6l6 6-6 6"/>',
    "collapse": '<path d="M6 9.5l6 6 6-6"/>',
}
_FAINT = {"previous-off": "previous", "next-off": "next"}  # the same shapes, drawn faint
# The model's mark: a filled four-pointed spark in the accent colour.
_SPARK = '<path fill="{colour}" d="M12 2.5l2.3 7.2 7.2 2.3-7.2 2.3-2.3 7.2-2.3-7.2-7.2-2.3 7.2-2.3z"/>'


def icon_svg(name: str, colour: str) -> str:
    if name == "model":
        body = _SPARK.format(colour=colour)
    else:
        shape = _SHAPES[_FAINT.get(name, name)]
        body = f"<g {_STROKE.format(colour=colour)}>{shape}</g>"
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">{body}</svg>'


def icon_image(name: str, theme: Theme, ratio: float = MIN_RATIO) -> QImage:
    """``name`` drawn for the transcript, at ``ratio`` image pixels per logical pixel."""
    colour = theme.accent if name == "model" else theme.dim
    side = math.ceil(ICON_SIZE * max(ratio, MIN_RATIO))
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if name in _FAINT:
        painter.setOpacity(0.4)
    QSvgRenderer(QByteArray(icon_svg(name, colour).encode())).render(painter)
    painter.end()
    image.setDevicePixelRatio(side / ICON_SIZE)
    return image


def icon_url(name: str) -> QUrl:
    return QUrl(f"icon:{name}")


def add_icons(document: QTextDocument, theme: Theme, ratio: float = MIN_RATIO) -> dict[str, QImage]:
    """Puts every icon the HTML names into ``document``; returns them by name."""
    images = {name: icon_image(name, theme, ratio) for name in ICONS}
    for name, image in images.items():
        document.addResource(QTextDocument.ResourceType.ImageResource, icon_url(name), image)
    return images
