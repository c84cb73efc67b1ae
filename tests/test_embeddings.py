"""Embeddings: OpenAI's /v1/embeddings and Ollama's /api/embed through the official clients
against a real server on a factory model (mean pooling, as for any generative model), and the
chat's KV cache left as it was by a context of their own."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import ollama
import openai
import pytest

from desktop.engine.client import EngineClient
from desktop.engine.protocol import ChatMessage, Embeddings, GenerationStats, LoadOptions, Sampling
from tests.serving import RunningServer, add_to_library, running_server

TEXTS = ["The cat sat on the mat.", "Stock markets fell sharply today.", "A kitten rests on a rug."]


@pytest.fixture
def server(models_dir: Path, model_cache: Callable[..., Path]) -> Iterator[RunningServer]:
    add_to_library(models_dir, model_cache())
    with running_server() as running:
        yield running


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_openai_embeddings_of_several_inputs(server: RunningServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    # The client asks for base64 unless told otherwise: both forms give the same numbers.
    packed = client.embeddings.create(model=server.model_id(), input=TEXTS)
    plain = client.embeddings.create(model=server.model_id(), input=TEXTS, encoding_format="float")
    assert [d.index for d in packed.data] == [0, 1, 2]
    vectors = [d.embedding for d in plain.data]
    assert {len(v) for v in vectors} == {64}  # the factory model's n_embd
    for a, b in zip(vectors, [d.embedding for d in packed.data], strict=True):
        assert a == pytest.approx(b, abs=1e-6)
    for v in vectors:
        assert math.isclose(_dot(v, v), 1.0, rel_tol=1e-6)  # of length 1: the cosine with itself
    assert len({tuple(v) for v in vectors}) == 3
    assert plain.usage.prompt_tokens > len(TEXTS)
    repeat = client.embeddings.create(model=server.model_id(), input=TEXTS, encoding_format="float")
    assert [d.embedding for d in repeat.data] == vectors  # the same request, the same vectors
    # Alone or beside others in a batch, a text's vector is the same but for rounding (the
    # batch's shape changes the order of the sums).
    again = client.embeddings.create(model=server.model_id(), input=TEXTS[1], encoding_format="float")
    assert _dot(again.data[0].embedding, vectors[1]) > 0.9999

    # More texts than one batch holds (16): the same vectors as each text alone.
    many = [f"Sentence number {n} about the sea." for n in range(20)]
    batched = client.embeddings.create(model=server.model_id(), input=many, encoding_format="float").data
    assert [d.index for d in batched] == list(range(20))
    for n in (0, 15, 16, 19):
        alone = client.embeddings.create(model=server.model_id(), input=many[n], encoding_format="float")
        assert _dot(batched[n].embedding, alone.data[0].embedding) > 0.9999

    same = client.embeddings.create(
        model=server.model_id(), input="Same", dimensions=64, encoding_format="float"
    )
    assert len(same.data[0].embedding) == 64
    with pytest.raises(openai.BadRequestError, match="cannot shorten"):
        client.embeddings.create(model=server.model_id(), input="Shorter", dimensions=32)
    with pytest.raises(openai.BadRequestError, match="empty"):
        client.embeddings.create(model=server.model_id(), input=["fine", ""])
    with pytest.raises(openai.BadRequestError, match="token ids"):
        client.embeddings.create(model=server.model_id(), input=[[1, 2, 3]])
    with pytest.raises(openai.BadRequestError, match="at most 2,048"):
        client.embeddings.create(model=server.model_id(), input="word " * 3000)


def test_ollama_embed(server: RunningServer) -> None:
    client = ollama.Client(host=server.url)
    response = client.embed(model=server.model_id(), input=TEXTS)
    assert len(response.embeddings) == 3 and len(response.embeddings[0]) == 64
    assert math.isclose(_dot(response.embeddings[0], response.embeddings[0]), 1.0, rel_tol=1e-6)
    one = client.embed(model=server.model_id(), input=TEXTS[0])
    assert _dot(one.embeddings[0], response.embeddings[0]) > 0.9999
    long = "word " * 3000
    cut = client.embed(model=server.model_id(), input=long)  # Ollama cuts a long text by default
    assert cut.prompt_eval_count == 2048
    with pytest.raises(ollama.ResponseError, match="at most 2,048"):
        client.embed(model=server.model_id(), input=long, truncate=False)


def test_embeddings_leave_the_chat_cache_alone(model_cache: Callable[..., Path]) -> None:
    client = EngineClient()
    try:
        client.load(LoadOptions(str(model_cache()), n_ctx=1024))
        client.wait_loaded()
        conversation = [ChatMessage("user", "Tell me about the sea.")]
        sampling = Sampling(max_tokens=8, temperature=0, seed=1)

        def reply(messages: list[ChatMessage]) -> GenerationStats:
            request_id = client.chat(messages, sampling)
            while True:
                event = client.next_event(60)
                if isinstance(event, GenerationStats) and event.request_id == request_id:
                    return event

        first = reply(conversation)
        request_id = client.embed(TEXTS)
        while not isinstance(event := client.next_event(60), Embeddings):
            assert event is not None
        assert event.request_id == request_id and event.pooling.startswith("mean")
        follow = [*conversation, ChatMessage("assistant", first.text), ChatMessage("user", "More.")]
        second = reply(follow)
        # The next turn still finds the first's prompt and reply in the chat's KV cache.
        assert second.cached_tokens >= first.prompt_tokens
    finally:
        client.shutdown()
