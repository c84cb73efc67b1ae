"""Hearth's line icons: every file is a valid SVG, an icon is drawn at the screen's own
resolution in the colour asked for, dim when disabled, in the new theme's colours after a switch
(buttons already showing one included)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QToolButton

from desktop.ui.shell.app import create_application
from desktop.ui.style import theme
from desktop.ui.style.icons import icon, icon_names
from desktop.ui.style.tokens import DARK, LIGHT

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
# What the design asked for; more may be added.
WANTED = {
    "chat", "discover", "models", "compare", "server", "settings", "copy", "edit", "regenerate",
    "chevron-left", "chevron-right", "close", "lock", "warning", "check", "cross", "send", "stop",
    "new-chat", "sidebar", "search", "download", "pause", "play", "trash", "folder", "refresh", "info",
}  # fmt: skip


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[Callable[[str], None]]:
    """Applies a theme for one test and puts the app back as it was."""
    create_application([])  # Fusion, as the app runs
    palette, sheet, colours = QApplication.palette(), qapp.styleSheet(), theme.current()

    def apply(mode: str) -> None:
        theme.apply_theme(qapp, mode)

    yield apply
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)
    theme._state["current"] = colours


def opaque_colours(image: QImage | QPixmap) -> set[str]:
    """The colours of the fully covered pixels (a line's core, not its smoothed edge), each
    within a step of rounding of the most common one counted as that one."""
    if isinstance(image, QPixmap):
        image = image.toImage()
    pixels = Counter(
        image.pixelColor(x, y).name()
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() == 255
    )
    if not pixels:
        return set()
    main = pixels.most_common(1)[0][0]
    return {main if _near(colour, main) else colour for colour in pixels}


def _near(a: str, b: str) -> bool:
    ca, cb = QColor(a), QColor(b)
    return max(abs(ca.red() - cb.red()), abs(ca.green() - cb.green()), abs(ca.blue() - cb.blue())) <= 2


def test_every_svg_is_valid_and_drawn_in_the_one_line_style() -> None:
    files = sorted(ICONS.glob("*.svg"))
    assert {p.stem for p in files} >= WANTED | {"hearth"}
    for path in files:
        assert QSvgRenderer(str(path)).isValid(), path.name
    for name in icon_names():
        text = (ICONS / f"{name}.svg").read_text(encoding="utf-8")
        assert 'viewBox="0 0 24 24"' in text, name
        assert 'stroke="currentColor"' in text and 'stroke-linecap="round"' in text, name
        assert "#" not in text, name  # no colour of its own: the theme gives it one
    assert "hearth" not in icon_names()  # the app icon is not a line icon


def test_an_unknown_name_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="no-such-icon"):
        icon("no-such-icon")
    with pytest.raises(KeyError):
        icon("hearth")
    with pytest.raises(ValueError):
        icon("copy", "not-a-colour")


def test_an_icon_is_drawn_at_the_screens_resolution_in_the_colour_asked(qapp) -> None:
    pixmap = icon("check", "#c0392b").pixmap(QSize(24, 24), 2.0)
    assert (pixmap.width(), pixmap.height()) == (48, 48)  # rendered at 200%, not scaled up
    assert pixmap.devicePixelRatio() == 2.0
    assert opaque_colours(pixmap) == {"#c0392b"}
    assert icon("check", "#c0392b").pixmap(QSize(24, 24), 1.0).width() == 24
    # A colour token is the theme's colour of that name.
    assert opaque_colours(icon("warning", "danger").pixmap(QSize(24, 24), 2.0)) == {theme.current().danger}


def test_a_disabled_icon_is_drawn_in_the_dim_colour(qapp) -> None:
    for colour in (None, "#c0392b", "success"):
        pixmap = icon("trash", colour).pixmap(QSize(24, 24), 2.0, QIcon.Mode.Disabled)
        assert opaque_colours(pixmap) == {theme.current().text_dim}


def test_icons_follow_a_theme_switch_without_being_set_again(qtbot, themed) -> None:
    themed("light")
    made_before = icon("settings")
    button = QToolButton()
    button.setIcon(made_before)
    button.setIconSize(QSize(32, 32))
    button.setAutoRaise(True)
    qtbot.addWidget(button)
    button.show()
    qtbot.waitExposed(button)
    assert opaque_colours(made_before.pixmap(QSize(24, 24), 2.0)) == {LIGHT.text}
    assert LIGHT.text in opaque_colours(button.grab())
    themed("dark")
    assert opaque_colours(made_before.pixmap(QSize(24, 24), 2.0)) == {DARK.text}
    drawn = opaque_colours(button.grab())
    assert DARK.text in drawn and LIGHT.text not in drawn


def test_an_icon_fits_the_rectangle_it_is_given(qapp) -> None:
    pixmap = icon("stop", "#000000").pixmap(QSize(40, 20), 1.0)
    assert (pixmap.width(), pixmap.height()) == (20, 20)  # square, as large as fits
    image = icon("stop", "#000000").pixmap(QSize(20, 20), 1.0).toImage()
    assert QColor(image.pixelColor(0, 0)).alpha() == 0  # the margin of the 24-unit grid stays clear
