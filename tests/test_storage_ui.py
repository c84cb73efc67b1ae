"""The window with a damaged, foreign or full store: it opens, that part is off, a banner says
why and what to do, and the file can be moved aside from it; a message typed on a full disk
stays in the box."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette

from desktop.chats.store import ConversationStore
from desktop.paths import hearth_paths
from desktop.settings import load_settings
from desktop.ui.shell.main_window import MainWindow
from tests.test_chat_pane import ready_window
from tests.test_storage import damage, fill, locked, make_chats, remount_read_only, small_disk
from tests.test_ui import open_window, screenshot

__all__ = ["locked", "open_window", "ready_window", "small_disk"]  # fixtures


def file_of(kind: str) -> Path:
    paths = hearth_paths()
    return {
        "chats": paths.chats_db,
        "library": paths.library_db,
        "compare": paths.compare_db,
        "settings": paths.settings_file,
        "downloads": paths.downloads_file,
    }[kind]


def spoil(path: Path, how: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "foreign" and path.suffix == ".json":
        path.write_text('{"someone": "else"}' if path.name == "downloads.json" else "[1, 2, 3]")
    else:
        damage(path, how)


def history_on(disk: Path) -> Path:
    """A chat history kept on ``disk``, where Hearth looks for it; its path."""
    path = hearth_paths().chats_db
    path.parent.mkdir(parents=True, exist_ok=True)
    make_chats(disk / path.name)
    path.symlink_to(disk / path.name)  # SQLite keeps its -wal and -shm beside the real file
    return path


def banner_text(window: MainWindow, path: Path) -> str:
    banner = window.storage_notices.banners.get(path)
    return banner.label.text() if banner is not None and banner.isVisible() else ""


@pytest.mark.parametrize("how", ["random", "foreign"])
@pytest.mark.parametrize("kind", ["chats", "library", "compare", "settings", "downloads"])
def test_the_window_opens_with_the_part_off_and_the_file_can_be_moved_aside(
    qtbot, open_window: Callable[[], MainWindow], monkeypatch: pytest.MonkeyPatch, kind: str, how: str
) -> None:
    path = file_of(kind)
    spoil(path, how)
    before = path.read_bytes()
    window = open_window()
    if kind == "compare":
        assert window.open_compare() is None  # the compare tools are off
    qtbot.waitUntil(lambda: str(path) in banner_text(window, path))
    text = banner_text(window, path)
    assert ("damaged" if how == "random" or path.suffix == ".json" else "not Hearth's") in text
    banner = window.storage_notices.banners[path]
    if kind == "chats":
        assert not window.chat_pane.compose.isEnabled() and not window.chat.send("Hello")
    screenshot(window, f"storage-{kind}-{how}.png")
    assert path.read_bytes() == before  # nothing written, nothing "repaired"

    monkeypatch.setattr("desktop.ui.shell.storage_notice.confirm_move_aside", lambda parent, problem: True)
    assert banner.move_button.isVisible()
    qtbot.mouseClick(banner.move_button, Qt.MouseButton.LeftButton)
    [aside] = [p for p in path.parent.iterdir() if p.name.startswith(f"{path.name}.damaged-")]
    assert aside.read_bytes() == before
    assert path not in window.storage_notices.banners
    # That part starts afresh.
    if kind == "chats":
        assert window.chat_pane.compose.isEnabled() and window.chat.conversation is not None
        assert ConversationStore(path).conversations()
    elif kind == "compare":
        assert window.open_compare() is not None
    elif kind == "library":
        qtbot.waitUntil(lambda: path.exists())
    elif kind == "settings":
        window.set_offline(True)
        assert load_settings().offline and path not in window.storage_notices.banners
    else:
        window.downloads.enqueue("owner/repo", "x.gguf", "owner/repo · x", 10)
        qtbot.waitUntil(lambda: path.exists())
        window.downloads.shutdown()
    window.close()


def test_the_notice_looks_like_the_app_in_light_and_dark(
    qtbot, open_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    spoil(file_of("chats"), "random")
    window = open_window()
    banner = window.storage_notices.banners[file_of("chats")]
    folder = Path(os.environ.get("HEARTH_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(folder / "storage-notice-light.png"))
    light = window.palette()
    dark = QPalette(light)
    for role, colour in (
        (QPalette.ColorRole.Window, "#2b2b2b"),
        (QPalette.ColorRole.WindowText, "#e6e6e6"),
        (QPalette.ColorRole.Base, "#1e1e1e"),
        (QPalette.ColorRole.Text, "#e6e6e6"),
        (QPalette.ColorRole.Button, "#3a3a3a"),
        (QPalette.ColorRole.ButtonText, "#e6e6e6"),
    ):
        dark.setColor(role, QColor(colour))
    window.setPalette(dark)
    window.grab().save(str(folder / "storage-notice-dark.png"))
    # The banner keeps its own readable colours on either palette.
    assert banner.label.palette().color(QPalette.ColorRole.WindowText).lightness() < 128
    window.close()


def test_a_message_typed_on_a_full_disk_stays_in_the_box(
    qtbot, ready_window: Callable[..., MainWindow], small_disk: Path
) -> None:
    path = history_on(small_disk)
    window = ready_window()
    pane = window.chat_pane
    fill(small_disk)
    pane.compose.setPlainText("Please remember this long question")
    qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "is full" in pane.notice.text())
    assert pane.compose.toPlainText() == "Please remember this long question"
    assert not window.chat.busy
    # The narrow pane has a short line; the window-wide banner names the file.
    assert f"The disk holding {path} is full" in banner_text(window, path)
    screenshot(window, "storage-full-mid-chat.png")
    (small_disk / "filler").unlink()
    with qtbot.waitSignal(window.chat.reply_finished, timeout=30_000):
        qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    assert pane.compose.toPlainText() == ""
    assert path not in window.storage_notices.banners  # saved again: the banner went
    messages = ConversationStore(path).messages(window.chat.conversation.id)  # type: ignore[union-attr]
    assert [m.content for m in messages if m.role == "user"][-1] == "Please remember this long question"


def test_a_locked_history_is_said_in_words_and_the_message_kept(
    qtbot, ready_window: Callable[..., MainWindow], locked: Callable[[Path], None]
) -> None:
    window = ready_window()
    pane = window.chat_pane
    locked(hearth_paths().chats_db)  # another process writing, past Hearth's short wait
    pane.compose.setPlainText("Hello there")
    qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "in use by another program" in pane.notice.text())
    assert pane.compose.toPlainText() == "Hello there" and not window.chat.busy
    assert "stayed locked" in banner_text(window, hearth_paths().chats_db)


def test_a_read_only_history_opens_the_window_with_chats_off(
    qtbot, open_window: Callable[[], MainWindow], small_disk: Path
) -> None:
    path = history_on(small_disk)
    remount_read_only(small_disk)
    window = open_window()
    assert "read-only" in banner_text(window, path)
    banner = window.storage_notices.banners[path]
    assert banner.move_button.isHidden()  # moving it aside is not the way out: making it writable is
    assert not window.chat_pane.compose.isEnabled()


def test_a_comparison_saved_on_a_full_disk_is_said_and_stays_on_screen(
    qtbot, open_window: Callable[[], MainWindow], models_dir: Path, tiny_model: Path, small_disk: Path
) -> None:
    for name in ("first", "second"):
        target = models_dir / "owner" / name / f"{name}-F32.gguf"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(tiny_model.read_bytes())
    path = hearth_paths().compare_db
    real = small_disk / path.name
    path.symlink_to(real)
    window = open_window()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 2)
    compare = window.open_compare()
    assert compare is not None
    qtbot.addWidget(compare)
    side = compare.side
    for i in range(side.models.count()):
        side.models.item(i).setCheckState(Qt.CheckState.Checked)
    side.sampling.max_tokens.setValue(4)
    side.prompt.text.setPlainText("Tell me about cats")
    qtbot.mouseClick(side.prompt.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not side.runner.busy, timeout=60_000)
    fill(small_disk)
    side.save()
    assert side.status.text().startswith("Not saved: The disk holding") and "is full" in side.status.text()
    assert all(c.messages for c in side.runner.columns)  # the replies are still there to save later
    (small_disk / "filler").unlink()
    side.save()
    assert side.status.text() == "Saved." and len(side._store.comparisons()) == 1
    compare.close()
