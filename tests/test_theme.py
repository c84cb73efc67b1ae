"""One look in light and dark: the tokens meet WCAG AA (4.5:1) for every text on its
background, the theme switches at once and is kept, and the colours the window actually
draws pass too, under a dark system palette included."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QRadioButton,
    QSpinBox,
    QStyle,
    QStyleOptionButton,
    QWidget,
)

from desktop.settings import load_settings
from desktop.ui.chat.transcript import ChatTranscript
from desktop.ui.hub.models import fit_colour
from desktop.ui.shell.app import create_application
from desktop.ui.shell.main_window import MainWindow
from desktop.ui.style import theme
from desktop.ui.style.theme import apply_theme, current
from desktop.ui.style.tokens import DARK, GRAPHIC_ON, LIGHT, TEXT_ON, Colours, contrast
from tests.test_ui import open_window

__all__ = ["open_window"]  # a fixture, shared with test_ui

AA = 4.5


@pytest.mark.parametrize("colours", [LIGHT, DARK], ids=["light", "dark"])
def test_every_text_token_meets_aa_on_each_background_it_is_drawn_on(colours: Colours) -> None:
    assert _below(colours, TEXT_ON, AA) == []


def _below(colours: Colours, pairs: dict[str, tuple[str, ...]], least: float) -> list[str]:
    """Each colour pair in ``pairs`` whose contrast is under ``least``, in words."""
    return [
        f"{fg} on {bg}: {contrast(getattr(colours, fg), getattr(colours, bg)):.2f}"
        for fg, backgrounds in pairs.items()
        for bg in backgrounds
        if contrast(getattr(colours, fg), getattr(colours, bg)) < least
    ]


def test_contrast_is_wcags() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the classic just-below-AA grey
    assert contrast("#123456", "#123456") == 1.0


def drawn_pairs(window: MainWindow) -> dict[str, tuple[str, str]]:
    """Text and background colours as the window draws them now."""
    palette = QApplication.palette()
    role = QPalette.ColorRole

    def c(r: QPalette.ColorRole) -> str:
        return palette.color(r).name()

    pairs = {
        "text on base": (c(role.Text), c(role.Base)),
        "window text": (c(role.WindowText), c(role.Window)),
        "placeholder": (c(role.PlaceholderText), c(role.Base)),
        "button text": (c(role.ButtonText), c(role.Button)),
        "selected text": (c(role.HighlightedText), c(role.Highlight)),
        "link": (c(role.Link), c(role.Base)),
        "tooltip": (c(role.ToolTipText), c(role.ToolTipBase)),
    }
    pane = window.chat_pane
    for level in ("info", "warning", "error"):
        pane.show_notice(level, f"A notice ({level})")
        style = pane.notices.notices[-1].styleSheet()
        background = re.search(r"background: (#[0-9a-f]{6})", style)
        text = re.search(r"[^-]color: (#[0-9a-f]{6})", style)
        assert background and text, style
        pairs[f"{level} notice"] = (text.group(1), background.group(1))
    pane.show_notice("info", "")
    theme = pane.transcript._renderer.theme
    base = pane.transcript.palette().color(role.Base).name()
    pairs |= {
        "reply text": (theme.text, base),
        "stats line": (theme.dim, base),
        "transcript link": (theme.accent, base),
        "code": (theme.text, theme.code_bg),
        "code label": (theme.dim, theme.code_bg),
        "thinking": (theme.dim, theme.think_bg),
        "your turn": (theme.text, theme.bubble),
    }
    for verdict in ("fits", "tight", "no"):  # the badge colour the quant and library lists draw
        pairs[f"fit {verdict}"] = (fit_colour(verdict), c(role.Base))
    return pairs


def assert_all_aa(pairs: dict[str, tuple[str, str]]) -> None:
    failing = {name: round(contrast(fg, bg), 2) for name, (fg, bg) in pairs.items() if contrast(fg, bg) < AA}
    assert failing == {}


def test_the_theme_switches_at_once_is_kept_and_every_drawn_text_passes(
    qtbot,
    open_window: Callable[[], MainWindow],
) -> None:
    window = open_window()
    assert current() == LIGHT and window.menu_actions.themes["system"].isChecked()
    assert_all_aa(drawn_pairs(window))
    window.menu_actions.themes["dark"].trigger()
    assert current() == DARK and QApplication.palette().color(QPalette.ColorRole.Window).name() == DARK.window
    assert window.chat_pane.transcript._renderer.theme.text == DARK.text  # redrawn, not on restart
    assert load_settings().theme == "dark"
    assert_all_aa(drawn_pairs(window))
    window.menu_actions.themes["light"].trigger()
    assert current() == LIGHT and load_settings().theme == "light"


@pytest.fixture
def dark_desktop() -> Iterator[None]:
    """The desktop's own palette, as Qt started the app with it, is a dark one."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    started = app.property("hearthSystemPalette")
    dark = QPalette(QColor("#202020"))
    dark.setColor(QPalette.ColorRole.Window, QColor("#202020"))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#f0f0f0"))
    app.setProperty("hearthSystemPalette", dark)
    yield
    app.setProperty("hearthSystemPalette", started)


def test_system_follows_a_dark_desktop_and_its_text_passes(
    qtbot,
    open_window: Callable[[], MainWindow],
    dark_desktop: None,
) -> None:
    window = open_window()  # settings say "system"
    assert current() == DARK
    assert_all_aa(drawn_pairs(window))


GRAPHIC = 3.0  # WCAG 1.4.11: what shows a control and its state, against what is beside it


@pytest.mark.parametrize("colours", [LIGHT, DARK], ids=["light", "dark"])
def test_every_control_colour_meets_3_to_1_on_each_background_it_is_drawn_on(colours: Colours) -> None:
    assert _below(colours, GRAPHIC_ON, GRAPHIC) == []


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[Callable[[str], Colours]]:
    """Applies a theme, as the app does, for one test; the app is put back as it was after."""
    create_application([])  # Fusion, as the app runs
    palette, sheet, colours = QApplication.palette(), qapp.styleSheet(), current()
    yield lambda mode: apply_theme(qapp, mode)
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)
    theme._state["current"] = colours


def _shown(qtbot, widget: QWidget) -> QImage:
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget.grab().toImage()


def _indicator(widget: QCheckBox | QRadioButton) -> QRect:
    option = QStyleOptionButton()
    widget.initStyleOption(option)
    element = (
        QStyle.SubElement.SE_CheckBoxIndicator
        if isinstance(widget, QCheckBox)
        else QStyle.SubElement.SE_RadioButtonIndicator
    )
    return widget.style().subElementRect(element, option, widget)


def _column(image: QImage, x: int, top: int, bottom: int) -> list[str]:
    return [image.pixelColor(x, y).name() for y in range(top, bottom + 1)]


def _row(image: QImage, y: int, left: int, right: int) -> list[str]:
    return [image.pixelColor(x, y).name() for x in range(left, right + 1)]


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_an_unchecked_box_and_radio_button_show_their_frame_at_3_to_1(qtbot, themed, mode: str) -> None:
    c = themed(mode)
    for widget in (QCheckBox("Keep the model in RAM (mlock)"), QRadioButton("A text file")):
        image = _shown(qtbot, widget)
        box = _indicator(widget)
        # Across the middle of the indicator: the frame, the inside, the frame, then the window.
        drawn = _row(image, box.center().y(), box.left(), box.right() + 3)
        assert drawn[-1] == c.window and c.surface in drawn, drawn
        if isinstance(widget, QCheckBox):
            assert drawn[0] == c.control_border, drawn
        # as drawn: a round frame's edge is smoothed, and must still pass
        assert contrast(drawn[0], c.window) >= GRAPHIC and contrast(drawn[0], c.surface) >= GRAPHIC


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_frame_of_a_field_shows_at_3_to_1(qtbot, themed, mode: str) -> None:
    c = themed(mode)
    combo = QComboBox()
    combo.addItem("Default context")
    fields = (QLineEdit("2048"), QSpinBox(), combo, QPlainTextEdit("A system prompt"), ChatTranscript())
    for field in fields:
        field.resize(160, field.sizeHint().height())
        image = _shown(qtbot, field)
        edge = image.pixelColor(0, image.height() // 2).name()  # the left side of the frame
        assert contrast(edge, c.window) >= GRAPHIC, (type(field).__name__, edge)


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_a_checked_box_is_filled_with_the_accent_and_its_mark_stands_out(qtbot, themed, mode: str) -> None:
    c = themed(mode)
    box = QCheckBox("Flash attention")
    box.setChecked(True)
    image = _shown(qtbot, box)
    inside = _indicator(box).adjusted(1, 1, -1, -1)
    drawn = {image.pixelColor(x, y).name() for x in range(inside.left(), inside.right() + 1)
             for y in range(inside.top(), inside.bottom() + 1)}  # fmt: skip
    assert c.accent in drawn and c.on_accent in drawn  # the fill and the check mark on it
    assert contrast(c.accent, c.window) >= GRAPHIC and contrast(c.on_accent, c.accent) >= GRAPHIC
    box.setChecked(False)
    assert box.grab().toImage().pixelColor(inside.center()).name() == c.surface


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_a_progress_bar_is_filled_with_the_accent(qtbot, themed, mode: str) -> None:
    c = themed(mode)
    bar = QProgressBar()  # as the welcome page's download shows it: no text on it
    bar.setTextVisible(False)
    bar.resize(300, 20)
    bar.setValue(50)
    image = _shown(qtbot, bar)
    middle = image.height() // 2
    assert image.pixelColor(75, middle).name() == c.accent  # the fill
    assert image.pixelColor(225, middle).name() == c.surface  # the rest of the track
    assert _column(image, 225, 0, 0) == [c.control_border]  # its frame shows: 3:1


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_text_on_a_progress_bar_is_readable_on_its_fill_and_beside_it(qtbot, themed, mode: str) -> None:
    """A bar showing its text (the model loading, the context in use) is drawn by Fusion, which
    splits the text where the fill ends; every row the text covers passes AA on either side."""
    c = themed(mode)
    bar = QProgressBar()
    bar.setFormat("Loading %p%")
    bar.resize(200, 24)
    bar.setValue(100)
    full = _shown(qtbot, bar)
    fill = {y: full.pixelColor(4, y).name() for y in range(full.height())}  # left of the text
    text_rows = {
        y for y in range(full.height()) for x in range(40, 160) if full.pixelColor(x, y).name() == c.on_accent
    }
    assert text_rows, "no text on the fill"
    lowest = min(contrast(c.on_accent, fill[y]) for y in text_rows)
    assert lowest >= AA, {y: fill[y] for y in text_rows}
    bar.setValue(0)
    empty = bar.grab().toImage()
    assert any(empty.pixelColor(x, y).name() == c.text for x in range(40, 160) for y in text_rows)
    assert contrast(c.text, c.surface) >= AA
    assert _column(empty, 100, 0, 0) == [c.control_border]  # the frame shows here too
