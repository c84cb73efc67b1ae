"""The engine from the window: settings that reach the worker, load progress, unloading, About."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from desktop.ui.shell.engine_controller import EngineState
from desktop.ui.shell.engine_settings_dialog import EngineSettingsDialog
from desktop.ui.shell.main_window import MainWindow
from tests.test_ui import open_window

__all__ = ["open_window"]  # a fixture, shared with test_ui


def window_with_one_model(
    qtbot, open_window: Callable[[], MainWindow], models_dir: Path, model: Path
) -> MainWindow:
    target = models_dir / "owner" / "Tiny-GGUF" / model.name
    target.parent.mkdir(parents=True)
    shutil.copyfile(model, target)
    window = open_window()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1)
    return window


def test_engine_settings_reach_the_worker_and_idle_unload_returns_the_memory(
    qtbot, open_window: Callable[[], MainWindow], models_dir: Path, tiny_model: Path
) -> None:
    window = window_with_one_model(qtbot, open_window, models_dir, tiny_model)

    def choose() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, EngineSettingsDialog)
        assert dialog.gpu_layers.currentText().startswith("Automatic")  # the default
        assert all(w.toolTip() for w in (dialog.context, dialog.threads, dialog.kv_type, dialog.mmap))
        dialog.context.setCurrentIndex(dialog.context.findData(2048))
        dialog.threads.setValue(1)
        dialog.batch.setValue(256)
        dialog.ubatch.setValue(128)
        assert dialog.flash_attn.isChecked()  # on by default, as llama.cpp chooses on a CPU
        dialog.flash_attn.setChecked(False)
        dialog.mmap.setChecked(False)
        dialog.unload_after.setValue(5)
        dialog.accept()

    QTimer.singleShot(0, choose)
    window.menu_actions.engine_settings.trigger()
    settings = window.context.settings
    assert (settings.threads, settings.batch_size, settings.flash_attn, settings.use_mmap) == (
        1,
        256,
        False,
        False,
    )
    assert window.engine.idle_ms == 5 * 60_000  # the idle timer follows the settings store

    progress: list[float] = []
    window.engine.load_progress.connect(progress.append)
    record = window.library.model.record(0)
    assert record is not None
    assert window.chat_pane.transcript.placeholderText().startswith("Choose a model above")
    window.load_model(record)
    assert window.load_progress.isVisible()
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=30_000)
    # An empty chat no longer asks for a model once one is loaded
    assert window.chat_pane.transcript.placeholderText() == "Write a message below to start."
    loaded = window.engine.model
    assert loaded is not None
    assert (loaded.n_ctx, loaded.n_threads, loaded.n_batch, loaded.n_ubatch) == (2048, 1, 256, 128)
    assert not loaded.flash_attn and not loaded.use_mmap
    assert progress and progress[-1] == 1.0 and not window.load_progress.isVisible()
    # A CPU build with automatic GPU layers says where the model runs
    assert "CPU only" in window.chat_pane.notice.text()

    # Idle unload: the worker keeps no model (its memory returned), and the window says why
    assert window.engine.idle_ms == 5 * 60_000
    worker = window.engine.worker_pid
    assert worker and Path(f"/proc/{worker}").exists()
    window.engine.idle_ms = 200
    window.engine._restart_idle()
    qtbot.waitUntil(lambda: window.engine.state == EngineState.EMPTY, timeout=5_000)
    assert window.engine.model is None
    assert window.chat_pane.transcript.placeholderText().startswith("Choose a model above")
    qtbot.waitUntil(lambda: not Path(f"/proc/{worker}").exists(), timeout=5_000)  # reaped: all returned
    assert "unloaded after 5 idle minutes" in window.statusBar().currentMessage()
    assert window.chat_pane.load_last_button.isVisible()  # the chat's model, one click away

    # Unload by hand
    window.load_model(record)
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=30_000)
    window.menu_actions.unload.trigger()
    assert window.engine.model is None and window.engine.state == EngineState.EMPTY


def test_about_names_the_build_and_copies_diagnostics(qtbot, open_window: Callable[[], MainWindow]) -> None:
    window = open_window()
    text = window.diagnostics()
    assert "Hearth" in text and "llama-cpp-python" in text and "PySide6" in text
    assert "Settings" in text and "gpu_layers" in text
    window.copy_diagnostics()
    assert QGuiApplication.clipboard().text() == text

    # About says what a person asks, in words; the build flags are behind Show Details
    from desktop.engine.devices import Device
    from desktop.ui.shell.about import about_box

    window.hub._devices_found([Device("CPU", "CPU", "AMD EPYC", "cpu", 16 * 2**30, 9 * 2**30)])
    box = about_box(window)
    shown = box.text()
    assert "AMD EPYC: the CPU, 17.2 GB of memory, 9.7 GB available" in shown
    assert "CPU build" in shown and str(window.context.models_dir) in shown
    assert "gpu_layers" not in shown and "gpu_layers" in box.detailedText()
    box.deleteLater()


def test_engine_settings_offer_gpu_layers_only_with_a_gpu_and_reload_now(
    qtbot, open_window: Callable[[], MainWindow], models_dir: Path, tiny_model: Path
) -> None:
    from desktop.engine.devices import Device

    window = window_with_one_model(qtbot, open_window, models_dir, tiny_model)
    cpu = Device("CPU", "CPU", "AMD EPYC", "cpu", 16 * 2**30, 9 * 2**30)
    gpu = Device("CUDA", "CUDA0", "NVIDIA RTX 4070", "gpu", 12 * 2**30, 10 * 2**30)
    assert EngineSettingsDialog(window.context.settings, gpu_found=False).gpu_layers.isEnabled() is False
    assert EngineSettingsDialog(window.context.settings, gpu_found=True).gpu_layers.isEnabled()
    assert EngineSettingsDialog(window.context.settings, gpu_found=None).gpu_layers.isEnabled()
    window.hub.device_probe.done = True
    window.hub._devices_found([cpu, gpu])
    record = window.library.model.record(0)
    assert record is not None
    window.load_model(record)
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=30_000)
    first = window.engine.worker_pid

    def save_and_reload() -> None:
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, EngineSettingsDialog))
        assert dialog.gpu_layers.isEnabled()  # a GPU was found
        dialog.threads.setValue(1)
        dialog.reload_button.click()

    QTimer.singleShot(0, save_and_reload)
    window.menu_actions.engine_settings.trigger()
    qtbot.waitUntil(
        lambda: window.engine.state == EngineState.READY and window.engine.worker_pid != first, timeout=30_000
    )
    assert window.engine.model is not None and window.engine.model.n_threads == 1


def test_switching_models_returns_the_first_ones_memory(
    qtbot, open_window: Callable[[], MainWindow], models_dir: Path, model_cache: Callable[..., Path]
) -> None:
    for name, seed in (("first-F32.gguf", 1), ("second-F32.gguf", 2)):
        target = models_dir / "owner" / "Tiny-GGUF" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model_cache(name, seed=seed), target)
    window = open_window()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 2)
    records = [window.library.model.record(r) for r in range(2)]
    assert records[0] is not None and records[1] is not None
    window.load_model(records[0])
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=30_000)
    first_worker = window.engine.worker_pid
    # The second one chosen from the chat's own model picker: size, quant, fit and kind listed
    picker = window.chat_pane.model_picker
    assert picker.label().startswith(records[0].name)
    choices = picker.choices()
    assert len(choices) == 2 and all("Fits" in a.text() and a.text().endswith("Chat") for a in choices)
    assert all(a.text().startswith(Path(a.toolTip().splitlines()[0]).stem) for a in choices)  # path on hover
    next(a for a in choices if a.text().startswith(records[1].name)).trigger()
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=30_000)
    assert picker.label().startswith(records[1].name)
    assert window.engine.model is not None and window.engine.model.model_path == str(records[1].path)
    assert window.engine.worker_pid != first_worker
    qtbot.waitUntil(lambda: not Path(f"/proc/{first_worker}").exists(), timeout=5_000)
