"""The chat pane through the real window: stop, regenerate, branches, settings, limits, search, export."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from desktop.chats.chat_settings import ChatSettings
from desktop.chats.store import ConversationStore
from desktop.engine.protocol import LoadOptions
from desktop.paths import hearth_paths
from desktop.ui.chat.conversation_list import ConversationIdRole, RichTextRole
from desktop.ui.chat.settings_dialog import ChatSettingsDialog
from desktop.ui.shell.engine_controller import EngineState
from desktop.ui.shell.main_window import MainWindow
from tests.test_transcript import anchors
from tests.test_ui import open_window, screenshot, set_max_tokens

__all__ = ["open_window"]  # a fixture, shared with test_ui


@pytest.fixture
def ready_window(
    qtbot, open_window: Callable[[], MainWindow], models_dir: Path, model_cache: Callable[..., Path]
) -> Callable[..., MainWindow]:
    """The window with a factory model loaded (its GGUF recommends a temperature of 0.6)."""

    def open_(n_ctx: int = 0) -> MainWindow:
        source = model_cache("tiny-chat.gguf", sampling=(("temp", 0.6), ("top_k", 20.0)))
        target = models_dir / "owner" / "Tiny-GGUF" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        window = open_window()
        qtbot.waitUntil(lambda: window.library.model.rowCount() == 1)
        window.engine.load(LoadOptions(str(target), n_ctx=n_ctx))
        qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=30_000)
        return window

    return open_


def reply(qtbot, window: MainWindow, action: Callable[[], object], timeout: int = 30_000) -> None:
    with qtbot.waitSignal(window.chat.reply_finished, timeout=timeout):
        action()


def click_link(window: MainWindow, link: str) -> None:
    """What clicking a link in the transcript does."""
    window.chat_pane.transcript.anchorClicked.emit(QUrl(link))


def test_stop_regenerate_edit_and_switch_branches(qtbot, ready_window) -> None:
    window = ready_window()
    pane = window.chat_pane
    store = window.store

    # Stop (Esc) ends the reply at once and keeps it
    set_max_tokens(window, 1900)
    with qtbot.waitSignal(window.chat.reply_text, timeout=30_000):
        qtbot.keyClicks(pane.compose, "Tell me a long story")
        qtbot.keyClick(pane.compose, Qt.Key.Key_Return)
    reply(qtbot, window, lambda: qtbot.keyClick(pane.compose, Qt.Key.Key_Escape))
    conversation_id = window.chat.conversation.id
    question, stopped = store.messages(conversation_id)
    assert stopped.stats["stop_reason"] == "cancelled" and stopped.content and stopped.complete
    assert 0 < stopped.stats["completion_tokens"] < 1900
    assert "stopped" in pane.transcript.plain_text()

    # Regenerate (Ctrl+R): a new reply; the old one is kept as another branch
    set_max_tokens(window, 6)
    reply(
        qtbot, window, lambda: qtbot.keyClick(pane.compose, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    )
    _, regenerated = store.messages(conversation_id)
    assert regenerated.id != stopped.id and regenerated.parent_id == question.id
    assert regenerated.stats["completion_tokens"] == 6
    assert store.branching(conversation_id)[regenerated.id].index == 1
    assert "2/2" in pane.transcript.plain_text()
    assert (f"hearth:branch/{stopped.id}", "Previous branch") in anchors(pane.transcript)

    # Switch back to the first reply, then forward again
    click_link(window, f"hearth:branch/{stopped.id}")
    assert [m.id for m in store.messages(conversation_id)] == [question.id, stopped.id]
    assert "1/2" in pane.transcript.plain_text()
    assert (f"hearth:branch/{regenerated.id}", "Next branch") in anchors(pane.transcript)
    click_link(window, f"hearth:branch/{regenerated.id}")
    assert store.messages(conversation_id)[-1].id == regenerated.id

    # Edit the question and send: a new branch from there, the old turns kept
    click_link(window, f"hearth:edit/{question.id}")
    assert pane.compose.toPlainText() == "Tell me a long story" and pane.editing_banner.isVisible()
    pane.compose.selectAll()
    qtbot.keyClicks(pane.compose, "Tell me a short story")
    reply(qtbot, window, lambda: qtbot.keyClick(pane.compose, Qt.Key.Key_Return))
    edited, answer = store.messages(conversation_id)
    assert edited.content == "Tell me a short story" and edited.id != question.id
    assert edited.parent_id == question.parent_id and answer.parent_id == edited.id
    assert not pane.editing_banner.isVisible()
    assert store.branching(conversation_id)[edited.id].count == 2
    click_link(window, f"hearth:branch/{question.id}")
    assert [m.id for m in store.messages(conversation_id)] == [question.id, regenerated.id]

    # Esc while editing cancels the edit, not a reply
    click_link(window, f"hearth:edit/{question.id}")
    qtbot.keyClick(pane.compose, Qt.Key.Key_Escape)
    assert not pane.editing_banner.isVisible() and not pane.compose.toPlainText()

    # Copy a message
    click_link(window, f"hearth:copy/{regenerated.id}")
    assert QGuiApplication.clipboard().text() == regenerated.content
    screenshot(window, "branches.png")


def test_settings_presets_and_the_models_recommended_sampling(qtbot, ready_window) -> None:
    window = ready_window()
    assert window.chat.recommended == {"temperature": pytest.approx(0.6), "top_k": 20.0}
    assert window.chat.sampling.temperature == pytest.approx(0.6) and window.chat.sampling.top_k == 20

    def fill_in() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ChatSettingsDialog)
        assert dialog.floats["temperature"].value() == pytest.approx(0.6)
        assert "recommended" in dialog.source.text()
        dialog.system_prompt.setPlainText("Answer in one sentence.")
        dialog.save_preset("Terse")
        dialog.floats["min_p"].setValue(0.1)
        dialog.seed.setValue(42)
        dialog.policy.setCurrentIndex(dialog.policy.findData("drop_oldest"))
        dialog.accept()

    QTimer.singleShot(0, fill_in)
    qtbot.keyClick(window.chat_pane.compose, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    conversation = window.store.conversation(window.chat.conversation.id)
    assert conversation.system_prompt == "Answer in one sentence."
    settings = ChatSettings.from_dict(conversation.settings)
    # Only what the person changed is kept: the model's own advice still applies to the rest.
    assert settings.sampling == {"min_p": pytest.approx(0.1), "seed": 42}
    assert settings.context_policy == "drop_oldest"
    assert window.chat.sampling == replace(window.chat.sampling, temperature=0.6, min_p=0.1, seed=42)
    assert [p.name for p in window.store.presets()] == ["Terse"]

    # A new chat starts plain; the preset fills in the prompt
    window.chat.new_chat()
    set_max_tokens(window, 3)
    reply(qtbot, window, lambda: window.chat.send("Hello"))
    window.chat.new_chat()
    dialog = window.chat_settings_dialog()
    assert dialog.system_prompt.toPlainText() == ""
    dialog.preset.setCurrentIndex(dialog.preset.findData("Terse"))
    dialog.preset.activated.emit(dialog.preset.currentIndex())
    assert dialog.system_prompt.toPlainText() == "Answer in one sentence."
    dialog.reject()


def test_context_limit_stop_then_drop_oldest_turns(qtbot, ready_window) -> None:
    window = ready_window(n_ctx=200)
    pane = window.chat_pane
    set_max_tokens(window, 24)
    long_message = " ".join(["the quick model writes a good answer"] * 4)
    failed = False
    for _turn in range(8):
        before = window.store.message_count(window.chat.conversation.id)
        with qtbot.waitSignal(
            window.chat.busy_changed, timeout=30_000, check_params_cb=lambda busy: not busy
        ):
            window.chat.send(long_message)
        if "does not fit the context" in pane.notice.text():
            failed = True
            break
    assert failed, "the conversation never outgrew a small context"
    # Said plainly, nothing silent: the question is kept, no empty reply is
    messages = window.store.messages(window.chat.conversation.id)
    assert window.store.message_count(window.chat.conversation.id) == before + 1
    assert messages[-1].role == "user" and messages[-1].content == long_message
    assert "drop the oldest turns" in pane.notice.text()
    n_ctx = window.engine.model.n_ctx  # llama.cpp rounds the context up (to 256 here)
    assert pane.context_meter.isVisible() and f"/ {n_ctx:,}" in pane.context_meter.text()

    # The other policy: the oldest turns are left out, the reply comes, and the pane says so
    settings = window.chat.settings
    window.chat.update_settings("Be brief.", replace(settings, context_policy="drop_oldest"))
    reply(qtbot, window, window.chat.regenerate)  # after an error, the question is asked again
    last = window.store.messages(window.chat.conversation.id)[-1]
    assert last.role == "assistant" and last.stats["dropped_messages"] > 0
    assert "oldest messages were left out" in pane.notice.text()
    assert "oldest messages left out to fit" in pane.transcript.plain_text()


def test_the_app_and_hearth_export_write_the_same_bytes(qtbot, open_window, tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import run_env

    store = ConversationStore(hearth_paths().chats_db)
    chat = store.create_conversation(
        model="/models/Qwen-7B-Q4_K_M-00001-of-00002.gguf", system_prompt="Sé breve."
    )
    store.add_message(chat.id, "user", "Naïve café — 東京? 🙂")
    store.add_message(
        chat.id, "assistant", "Oui: «déjà vu».", model="C:\\models\\Qwen-7B-Q4_K_M-00001-of-00002.gguf"
    )
    store.close()
    window = open_window()
    for fmt, suffix in (("json", ".json"), ("md", ".md")):
        path = tmp_path / f"chat{suffix}"
        window.chat_actions.export(chat.id, path)
        cli = subprocess.run(
            [sys.executable, "-m", "desktop", "export", str(chat.id), "--format", fmt],
            capture_output=True,
            env={**run_env(), "PYTHONIOENCODING": "latin-1"},  # a terminal that is not UTF-8
            timeout=60,
        )
        assert cli.returncode == 0, cli.stderr
        assert cli.stdout == path.read_bytes()
    text = (tmp_path / "chat.json").read_text(encoding="utf-8")
    assert "東京" in text and "\\u" not in text  # UTF-8, not escapes
    # One name for a model everywhere: the library's, without the shard suffix.
    assert "## Assistant (Qwen-7B-Q4_K_M)" in (tmp_path / "chat.md").read_text(encoding="utf-8")


def test_search_open_rename_duplicate_delete_and_export(
    qtbot, open_window, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store = ConversationStore(hearth_paths().chats_db)
    ids = []
    for topic in ("quokka habitats", "sourdough starters", "tidal power"):
        chat = store.create_conversation(model=None)
        store.add_message(chat.id, "user", f"Tell me about {topic}.")
        store.add_message(chat.id, "assistant", f"Here is what I know about {topic}: a great deal.")
        ids.append(chat.id)
    store.close()
    window = open_window()
    sidebar = window.chat_pane.sidebar
    qtbot.waitUntil(lambda: sidebar.model.rowCount() == 3)
    assert sidebar.model.index(0, 0).data() == "Tell me about tidal power."  # newest first

    # Ctrl+F, type: the hits, words marked
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    with qtbot.waitSignal(window.menu_actions.search_chats.triggered):
        qtbot.keyClick(window.chat_pane.compose, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(sidebar.search.hasFocus)
    qtbot.keyClicks(sidebar.search, "quokka")
    qtbot.waitUntil(lambda: sidebar.model.searching and sidebar.model.rowCount() == 2)
    hit = sidebar.model.index(0, 0)
    assert "<b>quokka</b>" in hit.data(RichTextRole)
    qtbot.mouseClick(
        sidebar.list.viewport(), Qt.MouseButton.LeftButton, pos=sidebar.list.visualRect(hit).center()
    )
    assert window.chat.conversation.id == ids[0]
    assert len(window.chat_pane.transcript.extraSelections()) == 2  # both messages say it
    sidebar.search.clear()
    qtbot.waitUntil(lambda: not sidebar.model.searching and sidebar.model.rowCount() == 3)

    # Rename in place (F2 then type)
    row = sidebar.model.row_of(ids[0])
    sidebar.model.setData(sidebar.model.index(row, 0), "Quokkas")
    assert window.store.conversation(ids[0]).title == "Quokkas"
    assert window.chat_pane.title.text() == "Quokkas"

    # Duplicate: a copy with its messages, shown
    sidebar.duplicate_requested.emit(ids[0])
    copy = window.chat.conversation
    assert copy.title == "Quokkas (copy)" and copy.id not in ids
    assert [m.content for m in window.store.messages(copy.id)] == [
        m.content for m in window.store.messages(ids[0])
    ]
    assert sidebar.model.rowCount() == 4

    # Export the copy as Markdown and JSON
    window.chat_actions.export(copy.id, tmp_path / "chat.md")
    window.chat_actions.export(copy.id, tmp_path / "chat.json")
    markdown = (tmp_path / "chat.md").read_text()
    assert markdown.startswith("# Quokkas (copy)") and "## You\n\nTell me about quokka habitats." in markdown
    exported = json.loads((tmp_path / "chat.json").read_text())
    assert [m["role"] for m in exported["messages"]] == ["user", "assistant"]

    # Delete (after asking)
    monkeypatch.setattr("desktop.ui.chat.actions.confirm_chat_deletion", lambda parent, title: True)
    sidebar.list.setCurrentIndex(sidebar.model.index(sidebar.model.row_of(copy.id), 0))
    sidebar.delete_action.trigger()
    assert window.store.conversation(copy.id) is None
    assert sidebar.model.rowCount() == 3 and window.chat.conversation.id != copy.id
    assert all(sidebar.model.index(r, 0).data(ConversationIdRole) != copy.id for r in range(3))


def stored_chat(question: str, answer: str) -> tuple[int, int]:
    """A question and its reply, kept in the history before the window opens: (chat id, reply id)."""
    store = ConversationStore(hearth_paths().chats_db)
    try:
        chat = store.create_conversation(model=None)
        store.add_message(chat.id, "user", question)
        reply = store.add_message(chat.id, "assistant", answer, model="/m/model.gguf")
    finally:
        store.close()
    return chat.id, reply.id


def test_thinking_shows_as_a_block_that_opens(qtbot, open_window) -> None:
    chat_id, answer_id = stored_chat(
        "What is 2 + 2?", "<think>Two and two make four, simple.</think>It is **4**."
    )
    window = open_window()
    transcript = window.chat_pane.transcript
    window.chat.open(chat_id)
    text = transcript.plain_text()
    assert "Thought for 6 words" in text and "It is 4." in text and "simple" not in text
    click_link(window, f"hearth:think/{answer_id}")
    assert "Two and two make four, simple." in transcript.plain_text()
    click_link(window, f"hearth:think/{answer_id}")
    assert "simple" not in transcript.plain_text()


def test_code_blocks_are_highlighted_and_copied(qtbot, open_window) -> None:
    chat_id, answer_id = stored_chat(
        "Code please", "First:\n\n```python\nprint('one')\n```\n\nThen:\n\n```sh\necho two\n```\n"
    )
    window = open_window()
    window.chat.open(chat_id)
    copy_code = [a for a in anchors(window.chat_pane.transcript) if a[1] == "Copy code"]
    assert [href for href, _ in copy_code] == [f"hearth:copy-code/{answer_id}/{n}" for n in (0, 1)]
    click_link(window, f"hearth:copy-code/{answer_id}/1")
    assert QGuiApplication.clipboard().text() == "echo two\n"
    screenshot(window, "markdown.png")


def test_a_newer_history_is_refused_and_left_alone(qtbot, open_window) -> None:
    import sqlite3

    path = hearth_paths().chats_db
    ConversationStore(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    before = path.read_bytes()
    window = open_window()
    pane = window.chat_pane
    banner = window.storage_notices.banners[path]
    assert "newer Hearth" in banner.label.text() and not pane.compose.isEnabled()
    assert not window.chat.send("Hello")
    window.close()
    assert path.read_bytes() == before
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 99
    db.close()


def test_a_long_conversation_opens_on_its_newest_messages(qtbot, open_window) -> None:
    store = ConversationStore(hearth_paths().chats_db)
    chat = store.create_conversation(model=None)
    for n in range(300):
        store.add_message(chat.id, "user" if n % 2 == 0 else "assistant", f"Message number {n}.")
    store.close()
    window = open_window()
    transcript = window.chat_pane.transcript
    window.chat.open(chat.id)
    text = transcript.plain_text()
    assert "Message number 299." in text and "Message number 0." not in text
    assert "240 earlier messages" in text  # the newest 60 shown
    # Scrolling to the top brings the earlier ones, keeping the view where it was
    bar = transcript.verticalScrollBar()
    for _ in range(300 // 12 + 2):  # 240 earlier messages, 12 at a time
        if "Message number 0." in transcript.plain_text():
            break
        bar.setValue(0)
    assert "Message number 0." in transcript.plain_text()
    assert "earlier messages" not in transcript.plain_text()
    # A search hit further up is shown too
    window.chat.open(chat.id)
    window.chat_pane.sidebar.open_requested.emit(chat.id, window.store.messages(chat.id)[3].id, "number")
    assert "Message number 3." in transcript.plain_text()


def test_the_app_and_hearth_chat_share_the_history_at_the_same_time(qtbot, ready_window) -> None:
    import subprocess
    import sys

    from tests.conftest import run_env

    window = ready_window()
    model = window.engine.model.model_path
    cli = subprocess.Popen(
        [sys.executable, "-m", "desktop", "chat", model, "--max-tokens", "60"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=run_env(),
    )
    assert cli.stdin is not None
    cli.stdin.write("From the terminal\nAgain from the terminal\n")
    cli.stdin.close()
    set_max_tokens(window, 60)
    reply(qtbot, window, lambda: window.chat.send("From the window"))
    reply(qtbot, window, lambda: window.chat.send("Again from the window"))
    assert cli.wait(60) == 0, cli.stderr.read() if cli.stderr else ""
    # Both writers' chats are whole; the list shows the terminal's once the window is back in focus
    store = window.store
    chats = {c.title: c for c in store.conversations()}
    assert {"From the terminal", "From the window"} <= set(chats)
    for title in ("From the terminal", "From the window"):
        messages = store.messages(chats[title].id)
        assert [m.role for m in messages] == ["user", "assistant"] * 2 and all(m.complete for m in messages)
    window.chat_pane.sidebar.search.clear()
    window._conversations_changed()
    titles = {
        window.chat_pane.sidebar.model.index(r, 0).data()
        for r in range(window.chat_pane.sidebar.model.rowCount())
    }
    assert "From the terminal" in titles


def test_the_transcript_follows_a_switch_to_dark(qtbot, open_window) -> None:
    from PySide6.QtGui import QColor, QPalette

    from desktop.ui.chat.transcript import theme_from

    chat_id, answer_id = stored_chat("Hi", "```python\nprint(1)\n```")
    window = open_window()
    window.chat.open(chat_id)
    transcript = window.chat_pane.transcript
    light = theme_from(transcript.palette())
    assert light.code_bg in transcript.toHtml()  # the code block's background, as drawn
    dark = QPalette(transcript.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    transcript.setPalette(dark)
    shown = transcript.toHtml()
    assert theme_from(dark).dark and theme_from(dark).code_bg in shown and light.code_bg not in shown
    assert (f"hearth:copy-code/{answer_id}/0", "Copy code") in anchors(transcript)
