"""The theme applied to the whole app at once: System (follows the desktop's light or dark
scheme), Light or Dark. Qt's palette carries the tokens to every standard widget; the few
places that draw their own colours (notices, the transcript's HTML, fit badges, icons) ask
``current()``. Fusion draws check boxes and the frames of fields in a shade of the window
colour, all but invisible in the dark theme: fields get a palette of their own (``FRAMED``), check
boxes and radio buttons a style sheet."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from desktop.ui.style.svg import line_icon_svg
from desktop.ui.style.tokens import DARK, LIGHT, RADIUS, Colours

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
    for class_name in FRAMED:  # a palette for each class: see FRAMED
        # PySide's stub says bytes for the class name; at run time only a str is taken.
        app.setPalette(framed_palette_for(colours), class_name)  # type: ignore[arg-type]
    app.setStyleSheet(style_sheet(colours))
    return colours


# Fusion draws the frame of a field in the window colour darkened by 140%: on a dark window that
# is darker still, and all but invisible (1.1:1). These controls paint no window colour of their
# own, so theirs is set to what darkens to ``control_border`` (3:1 on every background): the
# frame shows while Fusion keeps drawing them (a style sheet would change their sizes too).
# A progress bar that shows its text is one of them: Fusion splits the text where the fill ends,
# ``on_accent`` on the fill (the highlight), the text colour on the track, where a style sheet
# draws it in one colour across both. One without text is drawn by the style sheet.
FRAMED = ("QLineEdit", "QAbstractSpinBox", "QComboBox", "QPlainTextEdit", "QTextEdit", "QProgressBar")


def framed_palette_for(c: Colours) -> QPalette:
    """A field's palette: its frame in ``control_border``; its focus ring (a darker shade of the
    highlight), selected text and a progress bar's fill in the accent, which shows on both
    themes' backgrounds where the pale list selection colour would not."""
    palette = palette_for(c)
    palette.setColor(QPalette.ColorRole.Window, QColor(c.control_border).lighter(140))
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        palette.setColor(group, QPalette.ColorRole.Highlight, QColor(c.accent))
        palette.setColor(group, QPalette.ColorRole.HighlightedText, QColor(c.on_accent))
    return palette


@cache
def _image_dir() -> Path:
    """Where the style sheet's images are written (it takes images only as files)."""
    folder = Path(tempfile.mkdtemp(prefix="hearth-style-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def style_image(name: str, colour: str, stroke_width: float | None = None) -> str:
    """A file holding line icon ``name`` in ``colour``, as a style sheet's ``url(...)`` wants it."""
    path = _image_dir() / f"{name}-{colour.lstrip('#')}-{stroke_width or 2:g}.svg"
    if not path.exists():
        path.write_text(line_icon_svg(name, colour, stroke_width), encoding="utf-8")
    return path.as_posix()


def style_sheet(c: Colours) -> str:
    """What Qt's palette does not carry: tooltips; check boxes and radio buttons framed in
    ``control_border`` (3:1 on every background, WCAG 1.4.11), filled with the accent when on; a
    progress bar without text (drawn whole here) filled with the accent; the page's one primary
    button (``objectName`` "primaryButton": Send, Load, Download) filled with the accent; the
    navigation rail (desktop/ui/shell/rail.py), its page shown in the selection colour."""
    tooltip = f"color: {c.text}; background: {c.surface}; border: 1px solid {c.border}; padding: 4px;"
    check = style_image("check", c.on_accent, 3)
    partly = style_image("minus", c.on_accent, 3)
    dot = style_image("dot", c.on_accent)
    check_off = style_image("check", c.surface, 3)
    boxes = "QCheckBox::indicator, QAbstractItemView::indicator"
    indicators = f"{boxes}, QRadioButton::indicator"

    def each(selectors: str, state: str) -> str:
        return ", ".join(f"{s.strip()}{state}" for s in selectors.split(","))

    return f"""
QToolTip {{ {tooltip} }}
{indicators} {{
    width: 14px; height: 14px; border: 1px solid {c.control_border}; border-radius: 3px;
    background: {c.surface};
}}
QRadioButton::indicator {{ border-radius: 8px; }}
{each(indicators, ":hover")} {{ border-color: {c.accent}; }}
{each(indicators, ":checked")}, {each(boxes, ":indeterminate")} {{
    border-color: {c.accent}; background: {c.accent};
}}
{each(boxes, ":checked")} {{ image: url({check}); }}
{each(boxes, ":indeterminate")} {{ image: url({partly}); }}
QRadioButton::indicator:checked {{ image: url({dot}); }}
{each(indicators, ":disabled")} {{ border-color: {c.border}; background: {c.surface_alt}; }}
{each(indicators, ":checked:disabled")} {{
    border-color: {c.text_dim}; background: {c.text_dim}; image: url({check_off});
}}
QAbstractItemView::indicator {{ width: 12px; height: 12px; }}
QProgressBar[textVisible="false"] {{
    border: 1px solid {c.control_border}; border-radius: 4px; background: {c.surface};
}}
QProgressBar[textVisible="false"]::chunk {{ background: {c.accent}; border-radius: 3px; }}
QPushButton#primaryButton {{
    background: {c.accent}; color: {c.on_accent}; border: 1px solid {c.accent}; border-radius: 6px;
    padding: 6px 16px; font-weight: bold;
}}
QPushButton#primaryButton:focus {{ border: 2px solid {c.text}; }}
#navigationRail {{ background: {c.surface_alt}; border-right: 1px solid {c.border}; }}
QToolButton#railButton {{
    border: none; border-radius: {RADIUS["m"]}px; padding: 6px 2px; color: {c.text_dim};
}}
QToolButton#railButton:hover {{ background: {c.surface}; color: {c.text}; }}
QToolButton#railButton:checked {{ background: {c.selection}; color: {c.on_selection}; font-weight: bold; }}
QToolButton#railButton:focus {{ outline: none; border: 2px solid {c.accent}; }}
QPushButton#primaryButton:disabled {{
    background: {c.border}; color: {c.text_dim}; border-color: {c.border};
}}
"""


def notice_style(level: str, c: Colours | None = None) -> str:
    """A notice's colours (background, text, border) for a style sheet; "info" is quiet."""
    c = c or current()
    background, text = {
        "warning": (c.warning_bg, c.on_warning),
        "error": (c.danger_bg, c.on_danger),
    }.get(level, (c.info_bg, c.on_info))
    return f"background: {background}; color: {text}; border: 1px solid {c.border};"
