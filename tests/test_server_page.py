"""The Server page: the local API switched on from the window, sharing the window's model."""

from __future__ import annotations

import shutil
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.app.api_key import key_file, read_key
from desktop.paths import hearth_paths
from desktop.server.run import start_in_background
from desktop.ui.shell.app import create_application, create_main_window
from desktop.ui.shell.engine_controller import EngineState
from desktop.ui.shell.main_window import MainWindow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def window(qtbot: Any, models_dir: Path, tiny_model: Path) -> Iterator[MainWindow]:
    target = models_dir / "o" / "r" / "tiny-llama-F32.gguf"
    target.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, target)
    create_application([])
    win = create_main_window(start_in_background)
    win.first_run.finish()
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.library.model.rowCount() == 1, timeout=10_000)
    yield win
    # Closed here, not by qtbot: with the server still on (a failed test), closing would ask.
    if win.server is not None:
        win.server.stop()
    win.close()
    win.deleteLater()


def _serving(window: MainWindow) -> bool:
    return window.server is not None and window.server.running is not None


def _in_thread(call: Any) -> dict[str, Any]:
    """``call`` on a thread (the window must keep running to lend its engine); its outcome."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except Exception as exc:  # reported by the test's assertion
            outcome["error"] = exc

    threading.Thread(target=run, daemon=True).start()
    return outcome


def test_the_server_page_serves_the_window_s_model_with_its_own_worker(
    qtbot: Any, window: MainWindow
) -> None:
    page = window.open_server()
    assert page is not None and window.navigation.current_key() == "server"
    assert page.switch.text() == "Start server" and "Off" in page.status.text()
    port = _free_port()
    page.port.setValue(port)
    assert window.context.settings.server_port == port  # remembered

    record = window.library.model.record(0)
    assert record is not None
    assert page.models_model.records()[0].id == record.id
    window.load_model(record)
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=30_000)
    pid = window.engine.worker_pid
    assert window.open_server() is page  # loading opened the chat; back to the Server page

    page.switch.click()
    url = f"http://127.0.0.1:{port}"
    assert window.server is not None and window.server.running is not None
    assert page.switch.text() == "Stop server" and url in page.status.text()
    assert not page.port.isEnabled() and page.settings_hint.isVisible()
    page.copy_address.click()
    assert QGuiApplication.clipboard().text() == url + "/v1"
    # The snippets name this server and the model to ask for.
    assert all(url in view.toPlainText() and record.id in view.toPlainText() for view in page.snippet_views)

    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
    listed = _in_thread(lambda: [m.id for m in client.models.list()])
    qtbot.waitUntil(lambda: bool(listed), timeout=10_000)
    assert listed.get("value") == [record.id], listed

    reply = _in_thread(
        lambda: client.chat.completions.create(
            model=record.id, messages=[{"role": "user", "content": "Hello"}], max_tokens=8, seed=1
        )
    )
    qtbot.waitUntil(lambda: bool(reply), timeout=30_000)
    assert "error" not in reply, reply
    answer = reply["value"]
    assert answer.choices[0].message.content and answer.usage.completion_tokens == 8
    # Answered by the window's worker: no second copy of the model was loaded.
    assert window.engine.worker_pid == pid and window.engine.state == EngineState.READY
    service = window.server.service
    assert service is not None
    loaded = service.loaded()
    assert [(m.model.id, m.expires_at) for m in loaded] == [(record.id, None)]
    # The window's chat saw none of it.
    assert window.chat_pane.transcript.toPlainText().strip() in (
        "",
        window.chat_pane.transcript.placeholderText(),
    )
    # Each request is a row of the log: who, what, how many tokens, the status.
    qtbot.waitUntil(lambda: page.log_model.rowCount() == 2, timeout=5_000)
    row = page.log_model.records()[-1]
    assert row.client.startswith("127.0.0.1:")
    assert (row.model, row.completion_tokens, row.status) == (record.id, 8, 200)

    page.switch.click()
    assert not _serving(window) and page.switch.text() == "Start server" and page.port.isEnabled()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/v1/models", timeout=2)


def test_the_network_needs_a_key_made_for_the_person_and_shown_once(qtbot: Any, window: MainWindow) -> None:
    page = window.open_server()
    assert page is not None and read_key(hearth_paths()) is None
    assert page.key_state.text() == "None" and not page.forget_key_button.isEnabled()
    page.lan.setChecked(True)  # off this computer: a key is made at once
    dialog = page.key_dialog
    assert dialog is not None and dialog.isVisible()
    key = dialog.key.text()
    assert key.startswith("hearth-") and len(key) > 40 and read_key(hearth_paths()) == key
    mode = stat.S_IMODE(key_file(hearth_paths()).stat().st_mode)
    assert mode == 0o600  # only the person can read it
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == key
    dialog.reject()
    assert window.context.settings.server_lan and "Set" in page.key_state.text()
    # The settings file holds no secret; the snippets show a placeholder, not the key.
    assert key not in hearth_paths().settings_file.read_text()
    assert all(
        key not in v.toPlainText() and "YOUR-API-KEY" in v.toPlainText() for v in page.snippet_views[:2]
    )

    page.new_key_button.click()  # replaceable
    replaced = page.key_dialog
    assert (
        replaced is not None
        and replaced.key.text() != key
        and read_key(hearth_paths()) == replaced.key.text()
    )
    replaced.reject()
    page.forget_key_button.click()  # no key: back to this computer only
    assert read_key(hearth_paths()) is None and not page.lan.isChecked()
    assert not window.context.settings.server_lan


def test_closing_while_serving_asks_and_stop_ends_the_server(qtbot: Any, window: MainWindow) -> None:
    page = window.open_server()
    assert page is not None
    page.port.setValue(_free_port())
    page.switch.click()
    assert window.server is not None and window.server.running is not None
    url = window.server.running.url
    asked: list[str] = []

    def answer(choice: str) -> None:
        question = window.close_question
        if question is None:
            QTimer.singleShot(20, lambda: answer(choice))
            return
        asked.append(question.text())
        buttons = {b.text(): b for b in question.buttons()}
        if choice == "cancel":
            question.button(QMessageBox.StandardButton.Cancel).click()
        else:
            buttons["Stop the server and quit"].click()

    QTimer.singleShot(0, lambda: answer("cancel"))
    window.close()
    assert asked and "Keep serving them" in asked[0]
    assert window.isVisible() and _serving(window)  # cancelled: still serving
    QTimer.singleShot(0, lambda: answer("stop"))
    window.close()
    assert not window.isVisible() and not _serving(window)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/v1/models", timeout=2)
    QApplication.processEvents()
