"""The real window, driven offscreen: search, download, library, load, streamed reply, restart."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.library.scan import LocalModel
from desktop.paths import hearth_paths
from desktop.ui.hub.downloads import StatusRole
from desktop.ui.shell.app import create_application, create_main_window
from desktop.ui.shell.engine_controller import EngineState
from desktop.ui.shell.main_window import MainWindow
from tests.conftest import TEST_REPO
from tests.fakehub import FakeHub, Fault


def set_max_tokens(window: MainWindow, n: int) -> None:
    """As the chat settings dialog would: this conversation's replies stop after ``n`` tokens."""
    settings = window.chat.settings
    prompt = window.chat.conversation.system_prompt if window.chat.conversation else ""
    window.chat.update_settings(prompt, replace(settings, sampling={**settings.sampling, "max_tokens": n}))


@pytest.fixture
def open_window(qtbot) -> Iterator[Callable[..., MainWindow]]:
    create_application([])
    windows: list[MainWindow] = []

    def open_(welcome: bool = False) -> MainWindow:
        """``welcome``: as a first run shows it; else as someone past it (the window's pages)."""
        window = create_main_window()
        if not welcome:
            window.first_run.finish()
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield open_
    for window in windows:
        if window.isVisible():
            window.close()


def screenshot(window: MainWindow, name: str) -> None:
    folder = os.environ.get("HEARTH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(folder) / name))


def _select_row(view, row: int) -> None:
    view.selectRow(row)


def test_search_download_load_chat_and_restart(
    qtbot, open_window, fake_hub: FakeHub, models_dir: Path
) -> None:
    window = open_window()
    assert window.windowTitle() == "Hearth"
    local, discover, pane = window.my_models, window.discover, window.chat_pane
    window.navigation.show_key("models")
    qtbot.waitUntil(lambda: local.empty_hint.isVisible())
    # Before any search: recommended starters, from Hearth's own list
    assert window.hub.results.rowCount() > 0
    assert discover.results_label.text().startswith("Recommended for this computer")

    # Search the Hub
    window.navigation.show_page(discover)
    qtbot.keyClicks(discover.query, "tiny")
    qtbot.keyClick(discover.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.hub.results.rowCount() == 1)
    assert discover.results_view.model().index(0, 0).data() == TEST_REPO
    assert discover.results_view.model().index(0, 2).data() == "1.2K"

    # Open it: one row per quant, with size, memory and a fit badge; projectors aside
    _select_row(discover.results_view, 0)
    qtbot.waitUntil(lambda: window.hub.quants.rowCount() == 3)
    proxy = discover.quants_view.model()
    names = [proxy.index(r, 0).data().removesuffix(" · Recommended") for r in range(3)]
    assert names == ["F32", "Q8_0", "mmproj-tiny-llama-f16.gguf"]
    assert proxy.index(0, 4).data() == "Fits"
    assert proxy.index(0, 4).data(Qt.ItemDataRole.DecorationRole).name() == "check-circle"
    assert proxy.index(1, 5).data() == "Practically lossless"
    assert "2 quantisations" in discover.repo_label.text()
    # the KV cache counts once the first file's header is read (after the rows show)
    qtbot.waitUntil(
        lambda: window.hub.quants.report is not None and window.hub.quants.report.shape is not None
    )
    default_memory = proxy.index(0, 3).data()
    discover.context.setCurrentIndex(discover.context.findData(131072))
    assert "131,072 tokens of context" in discover.repo_label.text()
    assert proxy.index(0, 3).data() != default_memory  # a larger KV cache
    discover.context.setCurrentIndex(0)
    _select_row(discover.quants_view, 0)

    # Download with a progress bar, then it shows in the library
    fake_hub.set_fault(TEST_REPO, "tiny-llama-F32.gguf", Fault(bytes_per_second=1_000_000))
    qtbot.mouseClick(discover.download_button, Qt.MouseButton.LeftButton)
    assert discover.downloads_box.isVisible()
    [item] = window.downloads.model.items
    qtbot.waitUntil(lambda: item.done_bytes > 0, timeout=10_000)
    status = discover.downloads_view.model().index(0, 0).data(StatusRole)
    assert "of 571.6 KB" in status or "checksum" in status
    screenshot(window, "downloading.png")
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1, timeout=30_000)
    qtbot.waitUntil(lambda: not window.downloads.model.items)  # the list may see the file first
    assert not discover.downloads_box.isVisible()
    assert "Downloaded and verified" in discover.status.text()
    # The quant it fetched is not downloaded again: Open loads what is on disk
    assert discover.download_button.isEnabled() and discover.download_button.text() == "Open"
    assert "Already in My models" in discover.download_button.toolTip()
    _select_row(discover.quants_view, 1)
    assert discover.download_button.isEnabled() and discover.download_button.text() == "Download"
    _select_row(discover.quants_view, 0)
    model: LocalModel = window.library.model.record(0)
    assert model.path == models_dir / TEST_REPO / "tiny-llama-F32.gguf" and model.ok
    window.navigation.show_page(local)
    qtbot.waitUntil(lambda: local.selected() == model)
    details = local.details.text()
    assert "llama" in details and "F32" in details and "2K context" in details

    # Load and chat
    set_max_tokens(window, 40)
    qtbot.mouseClick(local.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=30_000)
    assert "tiny-llama-F32" in pane.model_status.text()
    qtbot.keyClicks(pane.compose, "Hello there")
    with qtbot.waitSignal(window.chat.reply_finished, timeout=30_000):
        qtbot.keyClick(pane.compose, Qt.Key.Key_Return)
    assert pane.compose.toPlainText() == ""
    messages = window.store.messages(window.chat.conversation.id)
    assert [m.role for m in messages] == ["user", "assistant"]
    reply = messages[1]
    assert reply.content and reply.complete and reply.stats["completion_tokens"] == 40
    text = pane.transcript.plain_text()
    assert "Hello there" in text and reply.content.strip()[:20] in text and "tokens/s" in text
    assert "Tiny Llama" in text  # the reply is headed by the model's own name (general.name)
    assert pane.title.text() == "Hello there"

    # Stop ends the reply at once and keeps what was written
    set_max_tokens(window, 1900)
    qtbot.keyClicks(pane.compose, "Tell me a long story")
    with qtbot.waitSignal(window.chat.reply_text, timeout=30_000):
        qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    assert pane.stop_button.isVisible()
    screenshot(window, "mid-conversation.png")
    with qtbot.waitSignal(window.chat.reply_finished, timeout=10_000):
        qtbot.keyClick(pane.compose, Qt.Key.Key_Escape)
    stopped = window.store.messages(window.chat.conversation.id)[-1]
    assert stopped.stats["stop_reason"] == "cancelled" and stopped.content
    assert stopped.stats["completion_tokens"] < 1900
    assert pane.send_button.isVisible() and not pane.stop_button.isVisible()
    conversation_id = window.chat.conversation.id
    transcript = pane.transcript.plain_text()
    window.resize(790, 560)  # within the offscreen platform's 800x600 screen
    size = (window.width(), window.height())
    assert size[1] == 560
    window.close()

    # Start again: the model and the conversation are still there
    window = open_window()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1)
    assert window.chat.conversation.id == conversation_id
    assert (window.width(), window.height()) == size  # window state is remembered
    assert window.chat_pane.transcript.plain_text() == transcript
    assert window.chat_pane.load_last_button.isVisible()
    qtbot.mouseClick(window.chat_pane.load_last_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=30_000)
    screenshot(window, "after-restart.png")


def test_pause_resume_across_restart_and_cancel(
    qtbot, open_window, fake_hub: FakeHub, models_dir: Path
) -> None:
    data = bytes(range(256)) * 4096 * 8  # 8 MiB
    fake_hub.add_file(TEST_REPO, "big-Q4_K_M.gguf", data)
    fake_hub.add_file(TEST_REPO, "other-Q5_K_M.gguf", data[:1_000_000])
    fake_hub.set_fault(TEST_REPO, "big-Q4_K_M.gguf", Fault(bytes_per_second=2_000_000))
    window = open_window()
    discover = window.discover
    window.navigation.show_page(discover)
    discover.open_repo(TEST_REPO)
    qtbot.waitUntil(lambda: window.hub.quants.rowCount() == 5)
    proxy = discover.quants_view.model()
    big = next(r for r in range(5) if proxy.index(r, 0).data().startswith("Q4_K_M"))
    discover.quants_view.selectRow(big)
    qtbot.mouseClick(discover.download_button, Qt.MouseButton.LeftButton)
    [item] = window.downloads.model.items
    qtbot.waitUntil(lambda: item.done_bytes > 1_000_000, timeout=15_000)

    # Pause keeps what was fetched; closing Hearth keeps the queue
    qtbot.mouseClick(discover.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: item.state == "paused", timeout=5_000)
    assert discover.pause_button.text() == "Resume"
    assert "Paused at" in discover.downloads_view.model().index(0, 0).data(StatusRole)
    kept = item.done_bytes
    window.close()

    window = open_window()
    discover = window.discover
    window.navigation.show_page(discover)
    [item] = window.downloads.model.items
    assert item.state == "paused" and discover.downloads_box.isVisible()
    fake_hub.set_fault(TEST_REPO, "big-Q4_K_M.gguf", None)
    qtbot.mouseClick(discover.pause_button, Qt.MouseButton.LeftButton)  # Resume
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1, timeout=30_000)
    qtbot.waitUntil(lambda: not window.downloads.model.items)
    assert (models_dir / TEST_REPO / "big-Q4_K_M.gguf").read_bytes() == data
    assert int(fake_hub.ranges[-1].removeprefix("bytes=").rstrip("-")) >= kept - 256 * 1024

    # Cancel forgets the download and its partial data
    fake_hub.set_fault(TEST_REPO, "other-Q5_K_M.gguf", Fault(bytes_per_second=200_000))
    discover.open_repo(TEST_REPO)
    qtbot.waitUntil(lambda: window.hub.quants.rowCount() == 5)
    proxy = discover.quants_view.model()
    discover.quants_view.selectRow(next(r for r in range(5) if proxy.index(r, 0).data() == "Q5_K_M"))
    qtbot.mouseClick(discover.download_button, Qt.MouseButton.LeftButton)
    [item] = window.downloads.model.items
    qtbot.waitUntil(lambda: item.done_bytes > 0, timeout=10_000)
    with qtbot.waitSignal(window.downloads.cancelled, timeout=2_000):
        qtbot.mouseClick(discover.cancel_button, Qt.MouseButton.LeftButton)
    assert window.downloads.model.items == [] and not discover.downloads_box.isVisible()
    assert discover.status.text() == "Download cancelled."
    assert not list(hearth_paths().staging_dir.rglob("*.part"))
    assert [m.path.name for m in window.library.model.records()] == [
        "big-Q4_K_M"
    ] or window.library.model.rowCount() == 1


def test_broken_model_and_offline_hub_are_explained(
    qtbot, open_window, models_dir: Path, tiny_model: Path
) -> None:
    broken = models_dir / "owner" / "Repo-GGUF" / "cut-Q4_K_M.gguf"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(tiny_model.read_bytes()[:5000])
    window = open_window()
    local, discover = window.my_models, window.discover
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1)
    name_cell = local.view.model().index(0, 0)
    assert name_cell.data() == "cut-Q4_K_M"  # the name as it is, a warning icon beside it
    assert name_cell.data(Qt.ItemDataRole.DecorationRole).name() == "warning"
    local.view.selectRow(0)
    assert "Broken" in local.details.text() and "truncated" in local.details.text()
    assert local.view.model().index(0, 8).data() == "—"  # its kind unknown, not "Text completion"
    qtbot.mouseClick(local.load_button, Qt.MouseButton.LeftButton)
    assert window.chat_pane.notice.isVisible() and "can't be loaded" in window.chat_pane.notice.text()
    assert window.engine.state == EngineState.EMPTY

    window.navigation.show_page(discover)
    qtbot.keyClicks(discover.query, "gemma")
    qtbot.mouseClick(discover.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Can't reach the Hugging Face Hub" in discover.status.text(), timeout=15_000)
    assert discover.search_button.isEnabled()
    screenshot(window, "offline.png")


def test_engine_crash_keeps_the_conversation(qtbot, open_window, models_dir: Path, tiny_model: Path) -> None:
    target = models_dir / "owner" / "Tiny-GGUF" / tiny_model.name
    target.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, target)
    window = open_window()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1)
    window.load_model(window.library.model.record(0))
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=30_000)
    set_max_tokens(window, 1900)
    with qtbot.waitSignal(window.chat.reply_text, timeout=30_000):
        window.chat.send("Keep talking")
    pid = window.engine.worker_pid
    assert pid
    with qtbot.waitSignal(window.chat.reply_finished, timeout=10_000):
        os.kill(pid, signal.SIGKILL)
    assert window.engine.state == EngineState.FAILED
    assert "engine process was stopped by SIGKILL" in window.chat_pane.notice.text()
    kept = window.store.messages(window.chat.conversation.id)
    assert [m.role for m in kept] == ["user", "assistant"] and kept[1].complete
    assert window.chat_pane.load_last_button.isVisible()


def test_the_app_starts_from_its_command(tmp_path: Path) -> None:
    """The README's first command ends in `hearth`: the real entry point opens the window."""
    import subprocess
    import sys
    import time

    from desktop.paths import hearth_paths
    from tests.conftest import run_env

    env = run_env() | {"QT_QPA_PLATFORM": "offscreen"}
    app = subprocess.Popen([sys.executable, "-m", "desktop"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        log = hearth_paths().log_file
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (log.exists() and "main window shown" in log.read_text()):
            assert app.poll() is None, app.stderr.read() if app.stderr else ""
            time.sleep(0.1)
        assert "main window shown" in log.read_text()
    finally:
        app.terminate()
        app.wait(10)


def test_model_card_and_lineage(qtbot, open_window, fake_hub: FakeHub) -> None:
    from PySide6.QtCore import QUrl

    from tests.test_card import README

    fake_hub.add_file(TEST_REPO, "README.md", README)
    fake_hub.add_repo("someone/Tiny-Chat-GGUF", tags=["gguf", "base_model:finetune:hearth-test/Tiny-Llama"])
    window = open_window()
    discover = window.discover
    window.navigation.show_page(discover)
    discover.open_repo(TEST_REPO)
    discover.details.setCurrentWidget(discover.card)
    qtbot.waitUntil(lambda: "Quantised from" in discover.card.toPlainText(), timeout=10_000)
    text = discover.card.toPlainText()
    assert "Licence: apache-2.0" in text and "Gated: no" in text and "Tiny Llama GGUF" in text
    screenshot(window, "model-card.png")
    discover.card.anchorClicked.emit(QUrl("hearth-children:finetune:hearth-test/Tiny-Llama"))
    qtbot.waitUntil(lambda: [m.repo_id for m in window.hub.results.records()] == ["someone/Tiny-Chat-GGUF"])


def test_filters_and_more_results_on_scroll(qtbot, open_window, fake_hub: FakeHub) -> None:
    for n in range(120):
        fake_hub.add_repo(
            f"bulk/model-{n:03d}-GGUF", downloads=n, gguf={"total": (n % 12 + 1) * 1_000_000_000}
        )
    window = open_window()
    discover = window.discover
    window.navigation.show_page(discover)
    qtbot.keyClicks(discover.author, "bulk")
    qtbot.keyClick(discover.author, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.hub.results.rowCount() == 50)
    assert "scroll for more" in discover.results_label.text()
    bar = discover.results_view.verticalScrollBar()
    bar.setValue(bar.maximum())
    qtbot.waitUntil(lambda: window.hub.results.rowCount() == 100)
    assert len({m.repo_id for m in window.hub.results.records()}) == 100

    discover.size_range.setCurrentIndex(2)  # 2B–8B
    qtbot.waitUntil(lambda: "hidden by the filters" in discover.results_label.text())
    params = [m.parameters for m in window.hub.results.records()]
    assert params and all(2_000_000_000 <= (p or 0) < 8_000_000_000 for p in params)


def test_offline_switch_and_token(qtbot, open_window, fake_hub: FakeHub, monkeypatch) -> None:
    from huggingface_hub import constants
    from PySide6.QtWidgets import QInputDialog

    window = open_window()
    discover = window.discover
    window.navigation.show_page(discover)
    window.menu_actions.offline.trigger()
    assert window.context.settings.offline and "Offline mode" in discover.status.text()
    qtbot.keyClicks(discover.query, "tiny")
    qtbot.keyClick(discover.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Offline mode is on" in discover.status.text())
    assert fake_hub.requests == []
    assert "can't be reached" not in window.statusBar().currentMessage()  # offline by choice
    assert window.hub.results.rowCount() > 0  # the starter list still shows
    window.menu_actions.offline.trigger()
    qtbot.keyClick(discover.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: [m.repo_id for m in window.hub.results.records()] == [TEST_REPO])

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("hf_valid_test_token", True))
    try:
        window.menu_actions.token.trigger()
        qtbot.waitUntil(
            lambda: "Signed in to the Hub as tester" in window.statusBar().currentMessage(), timeout=15_000
        )
    finally:
        for name in (constants.HF_TOKEN_PATH, constants.HF_STORED_TOKENS_PATH):
            Path(name).unlink(missing_ok=True)


def test_starters_count_a_gpu(qtbot, open_window) -> None:
    from desktop.engine.devices import Device

    window = open_window()
    gpu = Device(
        "CUDA", "CUDA0", "RTX", type="gpu", memory_total_bytes=24 * 10**9, memory_free_bytes=24 * 10**9
    )
    window.hub._devices_found([gpu])
    label = window.discover.results_label.text()
    assert "24 GB free on the GPU" in label
    # With the GPU's speed (read off the GUI thread), the most capable usable starter comes first
    qtbot.waitUntil(lambda: getattr(window.hub.results.record(0), "repo_id", "") == "Qwen/Qwen3-14B-GGUF")
    assert window.discover.available_bytes == window.hub.available_bytes


def test_remove_deletes_ours_and_hides_theirs(
    qtbot, open_window, models_dir: Path, tiny_model: Path, monkeypatch
):
    import desktop.ui.library.actions as library_actions

    theirs = Path(os.environ["HOME"]) / ".local" / "share" / "nomic.ai" / "GPT4All" / "theirs-F32.gguf"
    theirs.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, theirs)
    ours = models_dir / "o" / "r" / "ours-F32.gguf"
    ours.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, ours)
    window = open_window()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 2)
    sources = {m.name: m.source for m in window.library.model.records()}
    assert sources == {"ours-F32": "hearth", "theirs-F32": "gpt4all"}
    local = window.my_models
    proxy = local.view.model()
    assert "GPT4All" in [proxy.index(r, 5).data() for r in range(2)]
    assert [proxy.index(r, 10).data() for r in range(2)] == ["Fits", "Fits"]
    assert [proxy.index(r, 10).data(Qt.ItemDataRole.DecorationRole).name() for r in range(2)] == [
        "check-circle",
        "check-circle",
    ]
    assert [proxy.index(r, 9).data() for r in range(2)] == ["never", "never"]
    assert sorted(proxy.index(r, 6).data() for r in range(2)) == ["o/r", "—"]
    assert [proxy.index(r, 8).data() for r in range(2)] == [
        "Chat",
        "Chat",
    ]  # made to answer, not text completion
    assert local.totals.text() == "2 models · 1.1 MB on disk"
    qtbot.keyClicks(local.filter, "gpt4")
    assert proxy.rowCount() == 1 and proxy.index(0, 0).data() == "theirs-F32"
    local.filter.clear()
    local.context.setCurrentIndex(local.context.findData(131072))
    assert "131,072 tokens" in proxy.index(0, 10).data(Qt.ItemDataRole.ToolTipRole)

    answers = iter(["hide", "delete"])
    monkeypatch.setattr(library_actions, "confirm_removal", lambda parent, model: next(answers))
    local.select_path(str(theirs))
    qtbot.mouseClick(local.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1)
    assert theirs.exists()
    local.select_path(str(ours))
    qtbot.mouseClick(local.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 0)
    assert not ours.exists() and "freed" in window.statusBar().currentMessage()


def test_import_drop_watch_header_and_verify(
    qtbot, open_window, models_dir: Path, tiny_model: Path, tmp_path, monkeypatch
):
    import desktop.ui.library.actions as library_actions

    dropped = tmp_path / "Downloads" / "dropped-F32.gguf"
    dropped.parent.mkdir()
    shutil.copyfile(tiny_model, dropped)
    window = open_window()
    local = window.my_models
    monkeypatch.setattr(library_actions, "ask_import_mode", lambda parent, files: "copy")
    local.files_dropped.emit([dropped])
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1)
    imported = window.library.model.record(0)
    assert imported.path == models_dir / "local" / "imported" / "dropped-F32.gguf" and dropped.exists()
    assert window.statusBar().currentMessage() == "Imported 1 model"

    local.select_path(str(imported.path))
    qtbot.waitUntil(lambda: "llama.block_count" in local.header_view.toPlainText())
    text = local.header_view.toPlainText()
    assert "tokenizer.ggml.tokens" in text and "array of 512 values" in text  # long arrays summarised

    qtbot.mouseClick(local.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "no recorded sha256" in window.statusBar().currentMessage())

    folder = tmp_path / "more-models"
    folder.mkdir()
    shutil.copyfile(tiny_model, folder / "watched-F32.gguf")
    window.library_actions.watch_folder(folder)
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 2)
    assert {m.source for m in window.library.model.records()} == {"hearth", "folder"}


def test_files_added_or_removed_while_hearth_runs_show_up(
    qtbot, open_window, models_dir: Path, tiny_model: Path
):
    window = open_window()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 0)
    target = models_dir / "someone" / "New-GGUF" / "new-F32.gguf"
    target.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, target)
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1, timeout=10_000)  # no Refresh pressed
    target.unlink()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 0, timeout=10_000)


def test_a_download_says_when_it_is_verifying_what_is_on_disk() -> None:
    from desktop.hub.download_queue import DownloadItem
    from desktop.ui.hub.downloads import status_text

    item = DownloadItem("o/r", "Q4_K_M", "o/r · Q4_K_M", total_bytes=8_000_000, done_bytes=2_000_000)
    item.state = "downloading"
    item.verifying = True
    assert status_text(item) == "Verifying sha256 · 2.0 MB of 8.0 MB"
    item.verifying = False
    assert status_text(item).startswith("2.0 MB of 8.0 MB · ")


def test_the_quant_rows_show_before_the_models_header_is_read(qtbot, open_window, fake_hub: FakeHub) -> None:
    window = open_window()
    # The header is read from the first model file: make that slow (the listing is not)
    fake_hub.set_fault(TEST_REPO, "tiny-llama-F32.gguf", Fault(bytes_per_second=250_000))
    window.hub.open_repo(TEST_REPO)
    qtbot.waitUntil(lambda: window.hub.quants.rowCount() == 3, timeout=10_000)
    report = window.hub.quants.report
    assert report is not None and report.shape is None  # rows first, the KV cache not yet counted
    assert window.hub.quants.index(0, KIND).data() == "…"  # the kind not yet known: no guess
    fake_hub.set_fault(TEST_REPO, "tiny-llama-F32.gguf", None)
    qtbot.waitUntil(
        lambda: window.hub.quants.report is not None and window.hub.quants.report.shape is not None,
        timeout=30_000,
    )
    assert window.hub.quants.rowCount() == 3


KIND = 6  # the quant list's Kind column


def test_discover_says_whether_a_model_is_made_for_chat(
    qtbot, open_window, fake_hub: FakeHub, model_cache: Callable[..., Path]
) -> None:
    fake_hub.add_repo("hearth-test/Base-GGUF")
    fake_hub.add_file("hearth-test/Base-GGUF", "base-Q8_0.gguf", model_cache("base.gguf", chat_template=None))
    fake_hub.add_repo("hearth-test/Huge-Header-GGUF")  # its template lies past the bytes Hearth reads
    huge = model_cache("huge-header.gguf", metadata_padding=64_000_000)
    fake_hub.add_file("hearth-test/Huge-Header-GGUF", "huge-header-F32.gguf", huge)
    window = open_window()
    discover = window.discover
    window.navigation.show_page(discover)
    quants = window.hub.quants

    def opened(repo_id: str, rows: int) -> None:
        discover.open_repo(repo_id)
        qtbot.waitUntil(
            lambda: quants.rowCount() == rows and quants.report is not None and quants.report.header_read,
            timeout=30_000,
        )

    def kind(row: int, role: Qt.ItemDataRole = Qt.ItemDataRole.DisplayRole) -> object:
        return quants.index(row, KIND).data(role)

    tooltip = Qt.ItemDataRole.ToolTipRole
    opened(TEST_REPO, 3)
    assert quants.headerData(KIND, Qt.Orientation.Horizontal) == "Kind"
    assert [kind(r) for r in range(3)] == ["Chat", "Chat", ""]  # a projector has no kind
    assert kind(0, tooltip) == "Has a chat template: made to answer"
    assert "· Chat ·" in discover.repo_label.text()

    opened("hearth-test/Base-GGUF", 1)
    assert kind(0) == "Text completion"
    assert kind(0, tooltip) == (
        "No chat template: it continues text rather than answering; it opens in notebook mode"
    )
    assert "· Text completion ·" in discover.repo_label.text()
    assert "notebook mode" in discover.repo_label.toolTip()

    opened("hearth-test/Huge-Header-GGUF", 1)
    assert kind(0) == "Unknown"  # never "Text completion" for a template not reached
    assert "past its first 32 MB" in str(kind(0, tooltip))
    label = discover.repo_label.text()
    assert "Chat" not in label and "Text completion" not in label and discover.repo_label.toolTip() == ""
    assert quants.report is not None and quants.report.shape is not None  # memory counts the KV cache
    assert not discover.status.isVisible()  # no error


def test_lists_fit_their_columns_at_1024x700_and_show_them_all_at_1920x1080(
    qtbot, open_window, fake_hub: FakeHub, models_dir: Path, tiny_model: Path
) -> None:
    for name in ("a-model-with-a-rather-long-name-Q4_K_M.gguf", "short-Q8_0.gguf"):
        target = models_dir / "someone" / "Some-GGUF" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tiny_model, target)
    window = open_window()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 2)
    window.hub.open_repo(TEST_REPO)
    local, discover = window.my_models, window.discover
    qtbot.waitUntil(lambda: window.hub.quants.rowCount() == 3)

    def fitted(view) -> bool:  # every shown column within the view: nothing to scroll to
        header = view.horizontalHeader()
        used = sum(header.sectionSize(c) for c in range(header.count()) if not header.isSectionHidden(c))
        return bool(used <= view.viewport().width() + 1)

    def hidden(view) -> list[int]:
        header = view.horizontalHeader()
        return [c for c in range(header.count()) if header.isSectionHidden(c)]

    for size in ((1024, 700), (1920, 1080)):
        window.resize(*size)
        for page, views in (
            (local, [local.view]),
            (discover, [discover.results_view, discover.quants_view]),
        ):
            window.navigation.show_page(page)
            qtbot.wait(20)
            for view in views:
                assert fitted(view), (size, view.accessibleName())
        if size == (1024, 700):
            assert 10 not in hidden(local.view)  # "Fits" is what matters most: kept
        else:
            assert hidden(local.view) == [] and hidden(discover.quants_view) == []
