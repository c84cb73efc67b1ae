"""The navigation rail: Chat, Discover, My models and Compare as full pages, chosen by click or
Ctrl+1…4, remembered across a restart; the chat list folds away; the header has room."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel

from desktop.ui.shell.engine_controller import EngineState
from desktop.ui.shell.main_window import MainWindow
from tests.conftest import TEST_REPO
from tests.fakehub import FakeHub
from tests.test_ui import open_window

__all__ = ["open_window"]  # a fixture, shared with test_ui


def _page_title(window: MainWindow) -> str:
    page = window.navigation.stack.currentWidget()
    assert page is not None
    title = page.findChild(QLabel, "pageTitle")
    return title.text() if title is not None else "(chat)"


def _ctrl(qtbot, window: MainWindow, key: Qt.Key) -> None:
    """Ctrl+``key`` as typed on the page shown (Qt delivers a shortcut from the focused widget)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, key, Qt.KeyboardModifier.ControlModifier)


def _compare_made(window: MainWindow) -> bool:
    return window.compare_page is not None


def test_the_rail_shows_each_part_as_a_full_page_and_remembers_the_last(
    qtbot, open_window: Callable[..., MainWindow]
) -> None:
    window = open_window()
    rail = window.navigation
    names = [b.accessibleName() for b in rail.buttons.values()]
    assert names == ["Chat", "Discover", "My models", "Compare", "Server"]
    assert rail.current_key() == "chat" and rail.buttons["chat"].isChecked()
    assert window.chat_pane.isVisible() and not window.my_models.isVisible()

    qtbot.mouseClick(rail.buttons["models"], Qt.MouseButton.LeftButton)
    assert window.my_models.isVisible() and not window.chat_pane.isVisible()
    assert _page_title(window) == "My models" and rail.buttons["models"].isChecked()

    _ctrl(qtbot, window, Qt.Key.Key_2)
    assert rail.current_key() == "discover" and window.discover.isVisible()
    assert _page_title(window) == "Discover"

    _ctrl(qtbot, window, Qt.Key.Key_K)  # search the Hub
    assert window.discover.query.hasFocus()

    assert _compare_made(window) is False  # its charts load when first asked for
    _ctrl(qtbot, window, Qt.Key.Key_4)
    assert _compare_made(window) and window.compare_page is not None and window.compare_page.isVisible()
    assert rail.buttons["compare"].isChecked() and _page_title(window) == "Compare"

    assert rail.page("server") is None  # made when first asked for, as Compare
    _ctrl(qtbot, window, Qt.Key.Key_5)
    server = window.server_page
    assert server is not None and server.isVisible()
    assert rail.buttons["server"].isChecked() and _page_title(window) == "Server"
    # A window started without its server (as here) says so and offers no switch.
    assert not server.switch.isEnabled() and "without its server" in server.status.text()

    _ctrl(qtbot, window, Qt.Key.Key_3)
    window.close()
    again = open_window()
    assert again.navigation.current_key() == "models" and again.my_models.isVisible()
    _ctrl(qtbot, again, Qt.Key.Key_1)
    assert again.chat_pane.isVisible() and again.chat_pane.compose.isVisible()


def test_the_chat_list_folds_away_and_stays_folded(qtbot, open_window: Callable[..., MainWindow]) -> None:
    window = open_window()
    pane = window.chat_pane
    assert pane.sidebar.isVisible() and pane.list_button.isChecked()
    width = pane.transcript.width()
    qtbot.mouseClick(pane.list_button, Qt.MouseButton.LeftButton)
    assert not pane.sidebar.isVisible() and not window.menu_actions.chat_list.isChecked()
    qtbot.waitUntil(lambda: pane.transcript.width() > width)  # the conversation takes the room
    window.close()
    again = open_window()
    assert not again.chat_pane.sidebar.isVisible()
    _ctrl(qtbot, again, Qt.Key.Key_B)
    assert again.chat_pane.sidebar.isVisible() and again.chat_pane.sidebar.width() > 100


@pytest.mark.qt_log_ignore("does not support grabbing the keyboard")  # a menu, offscreen
def test_the_chat_header_has_room_at_1024x700_and_the_window_stays_small(
    qtbot, open_window: Callable[..., MainWindow], models_dir: Path, tiny_model: Path
) -> None:
    target = models_dir / "someone" / "Some-GGUF" / "a-model-with-a-rather-long-name-Q4_K_M.gguf"
    target.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, target)
    window = open_window()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1)
    pane = window.chat_pane
    window.chat.new_chat()
    pane.title.setText("Write a short poem about the sea")
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024)
    qtbot.wait(20)
    assert pane.title.elided() == "Write a short poem about the sea"  # whole at 1024×700
    assert pane.model_picker.isVisible() and pane.model_picker.label() == "Select a model to load"
    choices = pane.model_picker.choices()
    assert len(choices) == 1 and choices[0].text().startswith("a-model-with-a-rather-long-name")
    assert window.minimumSizeHint().width() <= 790  # a small laptop screen still holds it
    # Ctrl+L opens the picker from anywhere, as LM Studio's does; Esc closes it
    window.navigation.show_key("models")
    opened: list[bool] = []

    def seen() -> None:
        menu = pane.model_picker.menu()
        opened.append(menu is not None and menu.isVisible() and pane.isVisible())
        if menu is not None:
            menu.close()

    QTimer.singleShot(100, seen)
    _ctrl(qtbot, window, Qt.Key.Key_L)
    qtbot.waitUntil(lambda: opened == [True])


def test_a_quant_already_on_disk_opens_from_discover_into_a_chat(
    qtbot, open_window: Callable[..., MainWindow], fake_hub: FakeHub, models_dir: Path, tiny_model: Path
) -> None:
    target = models_dir / TEST_REPO / tiny_model.name
    target.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, target)
    window = open_window()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1)
    discover = window.discover
    window.navigation.show_page(discover)
    discover.open_repo(TEST_REPO)
    qtbot.waitUntil(lambda: window.hub.quants.rowCount() == 3)
    names = [getattr(window.hub.quants.record(r), "name", None) for r in range(3)]
    row = names.index("F32")
    quants = window.hub.quants
    marked = [r for r in range(3) if quants.index(r, 0).data(Qt.ItemDataRole.DecorationRole) is not None]
    assert marked == [row] and "In My models" in quants.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    discover.quants_view.selectRow(row)
    assert discover.download_button.text() == "Open" and discover.download_button.isEnabled()
    qtbot.mouseClick(discover.download_button, Qt.MouseButton.LeftButton)
    assert window.navigation.current_key() == "chat"
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=30_000)
    assert window.engine.model is not None and window.engine.model.model_path == str(target)
