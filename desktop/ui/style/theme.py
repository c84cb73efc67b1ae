"""The theme applied to the whole app at once: System (follows the desktop's light or dark
scheme), Light or Dark. Qt's palette carries the tokens to every standard widget; the few
places that draw their own colours (notices, the transcript's HTML, fit badges) ask
``current()``."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from desktop.ui.style.tokens import DARK, LIGHT, Colours

ThemeMode = Literal["system", "light", "dark"]
THEME_MODES: dict[str, str] = {"system": "System", "light": "Light", "dark": "Dark"}

_state: dict[str, Colours] = {"current": LIGHT}


def current() -> Colours:
    """The colours in use now (Light until a theme is applied)."""
    return _state["current"]


def system_is_dark(app: QGuiApplication) -> bool:
    """The desktop's own scheme: Qt's colour-scheme hint where the platform gives one, else the
    lightness of the palette the platform started the app with."""
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    started = app.property("hearthSystemPalette")
    palette = started if isinstance(started, QPalette) else app.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def colours_for(mode: str, app: QGuiApplication) -> Colours:
    if mode == "dark":
        return DARK
    if mode == "light":
        return LIGHT
    return DARK if system_is_dark(app) else LIGHT


def palette_for(c: Colours) -> QPalette:
    palette = QPalette()
    role = QPalette.ColorRole
    for name, colour in (
        (role.Window, c.window),
        (role.WindowText, c.text),
        (role.Base, c.surface),
        (role.AlternateBase, c.surface_alt),
        (role.Text, c.text),
        (role.PlaceholderText, c.text_dim),
        (role.Button, c.surface_alt),
        (role.ButtonText, c.text),
        (role.BrightText, c.on_danger),
        (role.Highlight, c.selection),
        (role.HighlightedText, c.on_selection),
        (role.Link, c.accent),
        (role.LinkVisited, c.accent),
        (role.ToolTipBase, c.surface),
        (role.ToolTipText, c.text),
        (role.Light, c.surface),
        (role.Midlight, c.surface_alt),
        (role.Mid, c.border),
        (role.Dark, c.border),
        (role.Shadow, "#000000"),
        (role.Accent, c.accent),
    ):
        palette.setColor(name, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for name in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(disabled, name, QColor(c.text_dim))
    return palette


def apply_theme(app: QApplication, mode: str) -> Colours:
    """Applies ``mode`` ("system", "light", "dark") to every window at once."""
    if app.property("hearthSystemPalette") is None:
        app.setProperty("hearthSystemPalette", QPalette(app.palette()))  # what "System" reads later
    colours = colours_for(mode, app)
    _state["current"] = colours
    app.setPalette(palette_for(colours))
    app.setStyleSheet(style_sheet(colours))
    return colours


def style_sheet(c: Colours) -> str:
    """The little Qt's palette does not carry: tooltips."""
    tooltip = f"color: {c.text}; background: {c.surface}; border: 1px solid {c.border}; padding: 4px;"
    return f"QToolTip {{ {tooltip} }}"


def notice_style(level: str, c: Colours | None = None) -> str:
    """A notice's colours (background, text, border) for a style sheet; "info" is quiet."""
    c = c or current()
    background, text = {
        "warning": (c.warning_bg, c.on_warning),
        "error": (c.danger_bg, c.on_danger),
    }.get(level, (c.info_bg, c.on_info))
    return f"background: {background}; color: {text}; border: 1px solid {c.border};"
