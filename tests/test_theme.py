"""One look in light and dark: the tokens meet WCAG AA (4.5:1) for every text on its
background, the theme switches at once and is kept, and the colours the window actually
draws pass too, under a dark system palette included."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from desktop.settings import load_settings
from desktop.ui.hub.models import fit_colour
from desktop.ui.shell.main_window import MainWindow
from desktop.ui.style.theme import current
from desktop.ui.style.tokens import DARK, LIGHT, TEXT_ON, Colours, contrast
from tests.test_ui import open_window

__all__ = ["open_window"]  # a fixture, shared with test_ui

AA = 4.5


@pytest.mark.parametrize("colours", [LIGHT, DARK], ids=["light", "dark"])
def test_every_text_token_meets_aa_on_each_background_it_is_drawn_on(colours: Colours) -> None:
    failing = [
        f"{fg} on {bg}: {contrast(getattr(colours, fg), getattr(colours, bg)):.2f}"
        for fg, backgrounds in TEXT_ON.items()
        for bg in backgrounds
        if contrast(getattr(colours, fg), getattr(colours, bg)) < AA
    ]
    assert failing == []


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
