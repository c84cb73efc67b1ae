"""A gallery of the window's pages, light and dark, at 1024x700 and 1920x1080, as PNG files.

    python -m benchmarks.screens OUTDIR

On its own: offscreen Qt, a private HEARTH_HOME, the fake Hub, factory models. Files are named
``<page>-<light|dark>-<width>x<height>.png``. Pages: welcome (as an empty library shows it),
welcome-downloading, my-models, discover (a repository open), chat (a conversation with code
and a thinking block), chat-model-picker (its menu open), chat-notebook, chat-settings,
engine-settings, about, and each Compare tab. Look at every one before calling a page done.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SIZES = ((1024, 700), (1920, 1080))
THEMES = ("light", "dark")
REPO = "hearth-demo/Tiny-Llama-GGUF"

REPLY = (
    "Here is a function that reverses a string:\n\n"
    "```python\ndef reverse(text: str) -> str:\n    return text[::-1]\n```\n\n"
    "It uses slicing with a step of **-1**, so it works for any sequence."
)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["HEARTH_HOME"] = tempfile.mkdtemp(prefix="hearth-screens-")
    os.environ["HOME"] = tempfile.mkdtemp(prefix="hearth-screens-home-")

    from desktop.gguf.tiny_model import TinyModelSpec, build_tiny_model
    from desktop.paths import hearth_paths
    from tests.fakehub import FakeHub

    models = hearth_paths().data_dir / "models" / "hearth-demo" / "Tiny-Llama-GGUF"
    chat_model = build_tiny_model(models / "tiny-llama-Q8_0.gguf", TinyModelSpec(name="Tiny Llama Chat"))
    build_tiny_model(models / "tiny-llama-F32.gguf", TinyModelSpec(seed=7, chat_template=None))
    hub = FakeHub().start()
    os.environ["HF_ENDPOINT"] = hub.url
    hub.add_repo(REPO, downloads=48_200, likes=310, last_modified="2026-10-01T12:00:00.000Z")
    hub.add_file(REPO, "tiny-llama-Q8_0.gguf", chat_model)
    hub.add_file(REPO, "tiny-llama-Q4_K_M.gguf", chat_model)
    hub.add_file(REPO, "README.md", b"# Tiny Llama\n\nA small model for trying Hearth out.\n")

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QApplication, QWidget

    from desktop.app.first_run import first_model
    from desktop.engine.hardware import physical_cores
    from desktop.server.run import start_in_background
    from desktop.ui.chat.model_picker import ModelPicker
    from desktop.ui.shell.app import create_application, create_main_window
    from desktop.ui.shell.engine_settings_dialog import EngineSettingsDialog

    app = create_application([])
    window = create_main_window(start_in_background)
    window.first_run.finish()  # the welcome is shown below, on purpose
    window.show()

    def settle(condition: Callable[[], bool] = lambda: True, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            if condition():
                break
            time.sleep(0.01)
        for _ in range(5):
            app.processEvents()

    settle(lambda: window.library.model.rowCount() == 2)
    store = window.store
    chat = store.create_conversation(model=str(chat_model))
    store.add_message(chat.id, "user", "Write a Python function that reverses a string.")
    store.add_message(chat.id, "assistant", "<think>A slice does it.</think>" + REPLY, model=str(chat_model))
    notebook = store.create_conversation(model=str(models / "tiny-llama-F32.gguf"))
    store.set_settings(notebook.id, {"mode": "notebook"})
    store.add_message(notebook.id, "user", "Once upon a time, in a quiet village by the sea,")
    store.add_message(notebook.id, "assistant", " there lived an old lighthouse keeper.")

    def save(widget: QWidget, name: str) -> None:
        settle()
        widget.grab().save(str(out / name))

    def save_with_menu(window: QWidget, picker: ModelPicker, name: str) -> None:
        """The window with the picker's menu open under it (a menu is a window of its own)."""
        menu = picker.menu()
        assert menu is not None
        picker.choices()  # filled as it would be on opening
        menu.popup(picker.mapToGlobal(picker.rect().bottomLeft()))
        settle()
        shot = window.grab()
        painter = QPainter(shot)
        painter.drawPixmap(window.mapFromGlobal(menu.pos()), menu.grab())
        painter.end()
        shot.save(str(out / name))
        menu.hide()

    nav = window.navigation
    for theme in THEMES:
        window.set_theme(theme)
        for width, height in SIZES:
            size = f"{theme}-{width}x{height}"
            window.resize(width, height)
            welcome = window.welcome
            welcome.show_model(
                first_model(models, window.hub.available_bytes, physical_cores(), window.hub.gpu_bytes),
                offline=False,
            )
            welcome.show_found("Found on this computer: 3 models in LM Studio's folder.")
            welcome.show_idle()
            window.show_welcome(True)
            save(window, f"welcome-{size}.png")
            welcome.show_progress(0.42, "340.2 MB of 810.0 MB · 12.5 MB/s · 38 s left", False)
            save(window, f"welcome-downloading-{size}.png")
            welcome.show_idle()
            window.show_welcome(False)
            nav.show_key("models")
            window.chat.open(chat.id)
            settle(lambda: window.library.model.rowCount() == 2)
            window.my_models.select_path(str(chat_model))
            save(window, f"my-models-{size}.png")
            nav.show_key("chat")
            save(window, f"chat-{size}.png")
            save_with_menu(window, window.chat_pane.model_picker, f"chat-model-picker-{size}.png")
            window.chat.open(notebook.id)
            save(window, f"chat-notebook-{size}.png")
            window.chat.open(chat.id)
            nav.show_key("discover")
            window.hub.open_repo(REPO)
            settle(lambda: window.hub.quants.rowCount() == 2 and bool(window.discover.card.toPlainText()))
            save(window, f"discover-{size}.png")
            dialogs: list[tuple[str, QWidget]] = [
                ("chat-settings", window.chat_settings_dialog()),
                ("engine-settings", EngineSettingsDialog(window.context.settings, window)),
            ]
            from desktop.ui.shell.about import about_box

            dialogs.append(("about", about_box(window)))
            for page, dialog in dialogs:
                dialog.show()
                save(dialog, f"{page}-{size}.png")
                dialog.close()
                dialog.deleteLater()
            compare = window.open_compare()
            if compare is not None:
                for i in range(min(2, compare.models.count())):  # the page's one list, two checked
                    compare.models.item(i).setCheckState(Qt.CheckState.Checked)
                for index in range(compare.tabs.count()):
                    compare.tabs.setCurrentIndex(index)
                    title = compare.tabs.tabText(index).replace("&", "").lower().replace(" ", "-")
                    save(window, f"compare-{title}-{size}.png")
            server = window.open_server()
            if server is not None:
                if window.server is not None and window.server.running is None:
                    server.port.setValue(_free_port())
                    server.switch.click()
                    _ask_in_thread(server.address(), settle)  # real requests, in the log
                save(window, f"server-{size}.png")
            nav.show_key("chat")
    if window.server is not None:
        window.server.stop()
    window.close()
    hub.stop()
    QApplication.processEvents()
    print(f"{len(list(out.glob('*.png')))} screenshots in {out}")
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ask_in_thread(url: str, settle: Callable[..., None]) -> None:
    """Two requests from another program (a thread here): the window keeps running meanwhile."""
    import threading
    import urllib.request

    done = threading.Event()

    def ask() -> None:
        for path in ("/v1/models", "/api/tags"):
            with urllib.request.urlopen(url + path, timeout=10) as answer:
                answer.read()
        done.set()

    threading.Thread(target=ask, daemon=True).start()
    settle(done.is_set)


if __name__ == "__main__":
    sys.exit(main())
