"""The first five minutes, as a person clicks and types: from an empty library to a streaming
reply in one click plus the message, against the fake Hub."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt

from desktop.app.first_run import first_model, found_elsewhere, wants_welcome
from desktop.engine.hardware import physical_cores
from desktop.gguf.fit import system_memory_bytes
from desktop.hub.starters import load_starters
from desktop.library.scan import describe_model
from desktop.ui.shell.engine_controller import EngineState
from desktop.ui.shell.main_window import MainWindow
from tests.fakehub import FakeHub
from tests.test_ui import open_window, set_max_tokens

__all__ = ["open_window"]  # a fixture, shared with test_ui


def test_no_starter_is_a_base_model() -> None:
    """The welcome never offers a text-completion model: every starter is made for chat."""
    for starter in load_starters():
        name = starter.repo_id.lower()
        assert any(mark in name for mark in ("instruct", "-it-", "qwen3", "smollm3")), starter.repo_id


def test_an_empty_library_clicks_once_and_types_to_a_reply(
    qtbot, open_window: Callable[..., MainWindow], fake_hub: FakeHub, model_cache: Callable[..., Path]
) -> None:
    offered = first_model(Path("/tmp"), system_memory_bytes(), physical_cores())
    assert offered is not None
    starter = offered.starter
    fake_hub.add_repo(starter.repo_id, downloads=10_000)
    fake_hub.add_file(
        starter.repo_id, f"model-{starter.quant}.gguf", model_cache("welcome-chat.gguf", seed=11)
    )

    window = open_window(welcome=True)
    page = window.welcome
    qtbot.waitUntil(lambda: window.pages.currentWidget() is page, timeout=10_000)
    assert page.model_title.text() == offered.title and page.download_button.isEnabled()
    assert "Chosen for this computer" in page.reason.text() and "licence" in page.model_facts.text()

    qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)  # click 1
    qtbot.waitUntil(lambda: page.progress.isVisible())
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=60_000)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.navigation)
    compose = window.chat_pane.compose
    qtbot.waitUntil(compose.hasFocus)  # the cursor is in the message box
    # Not a click: the test bounds the reply (a tiny model's random text can run to the
    # context's end, and a slow CI machine renders it for longer than the wait below).
    set_max_tokens(window, 24)
    qtbot.keyClicks(compose, "Hello!")
    with qtbot.waitSignal(window.chat.reply_finished, timeout=30_000):
        qtbot.keyClick(compose, Qt.Key.Key_Return)
    assert "Hello!" in window.chat_pane.transcript.plain_text()
    assert window.engine.model is not None and window.engine.model.model_path.endswith(
        f"-{starter.quant}.gguf"
    )


def test_offline_the_welcome_offers_files_and_downloads_nothing(
    qtbot, open_window: Callable[..., MainWindow], fake_hub: FakeHub
) -> None:
    window = open_window(welcome=True)
    window.set_offline(True)
    window.library.refresh()
    page = window.welcome
    qtbot.waitUntil(lambda: "working offline" in page.reason.text(), timeout=10_000)
    assert not page.download_button.isEnabled()
    assert page.add_folder_button.isVisible() and page.import_button.isVisible()
    assert fake_hub.requests == []


def test_what_the_welcome_says_about_other_apps_and_when_it_shows(tmp_path: Path, tiny_model: Path) -> None:
    lms = describe_model(tiny_model, source="lmstudio")
    ours = describe_model(tiny_model, source="hearth")
    assert found_elsewhere([lms, lms, ours]) == "Found on this computer: 2 models in LM Studio's folder."
    assert found_elsewhere([ours]) is None
    assert wants_welcome([lms], has_chats=False) and not wants_welcome([ours], has_chats=False)
    assert not wants_welcome([], has_chats=True)


def test_a_disk_too_small_for_the_model_is_said_before_any_download(
    qtbot, tmpfs: Callable[..., Path]
) -> None:
    from desktop.ui.shell.welcome import WelcomePage

    models = tmpfs(Path(os.environ["HEARTH_HOME"]) / "small-disk", 64 * 1024**2)  # 64 MB: far too little
    offered = first_model(models, 16 * 10**9, 2)
    assert offered is not None and not offered.enough_disk and offered.disk_free <= 64 * 1024**2
    page = WelcomePage()
    qtbot.addWidget(page)
    page.show_model(offered, offline=False)
    assert not page.download_button.isEnabled()  # nothing can start
    # On two cores by the rule of thumb (10 GB/s), the most capable starter predicted at 10 tokens
    # a second or more: OLMo 2 1B (940 MB); the 3B SmolLM3 would be usable, but not quick.
    assert page.reason.text().startswith("Not enough free disk space: it needs 940.0 MB")
