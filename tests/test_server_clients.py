"""The server as programs use it: the official openai and ollama Python clients against a real
server on factory models."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import ollama
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.serving import RunningServer, add_to_library, running_server


@pytest.fixture
def server(models_dir: Path, model_cache: Callable[..., Path]) -> Iterator[RunningServer]:
    add_to_library(models_dir, model_cache())
    with running_server() as running:
        yield running


def test_openai_client_lists_models_and_chats(server: RunningServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    models = client.models.list().data
    assert [m.id for m in models] == [server.model_id()]
    model = models[0].id
    assert client.models.retrieve(model).id == model

    reply = client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
        max_tokens=6,
        temperature=0,
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "length" and choice.message.role == "assistant"
    assert choice.message.content
    assert reply.usage is not None and reply.usage.completion_tokens == 6
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + 6 and reply.usage.prompt_tokens > 2

    # Streamed, the same greedy reply arrives in pieces, with the usage at the end.
    chunks = list(
        client.chat.completions.create(
            model=model,
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
            max_tokens=6,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == choice.message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 6

    # Content as a list of text parts (as Open WebUI sends it) is the same message.
    parts = client.chat.completions.create(
        model=model,
        messages=[
            {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]},
        ],
        max_tokens=6,
        temperature=0,
    )
    assert parts.choices[0].message.content == choice.message.content


def test_openai_client_stop_strings_and_completions(server: RunningServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    model = server.model_id()
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello"}]
    full = client.chat.completions.create(model=model, messages=messages, max_tokens=12, temperature=0)
    text = full.choices[0].message.content
    assert text and len(text.strip()) > 3
    stop = text.strip()[2:4]
    cut = client.chat.completions.create(
        model=model, messages=messages, max_tokens=12, temperature=0, stop=[stop]
    )
    assert cut.choices[0].finish_reason == "stop"
    assert cut.choices[0].message.content == text[: text.index(stop)]

    # Penalties change which token greedy decoding picks once words repeat.
    long = client.chat.completions.create(model=model, messages=messages, max_tokens=40, temperature=0)
    varied = client.chat.completions.create(
        model=model, messages=messages, max_tokens=40, temperature=0, frequency_penalty=2.0
    )
    fresh = client.chat.completions.create(
        model=model, messages=messages, max_tokens=40, temperature=0, presence_penalty=2.0
    )
    assert len({long.choices[0].message.content, varied.choices[0].message.content}) == 2
    assert len({long.choices[0].message.content, fresh.choices[0].message.content}) == 2

    completion = client.completions.create(
        model=model, prompt="Once upon a time", max_tokens=5, temperature=0
    )
    assert completion.choices[0].text and completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 5
    streamed = client.completions.create(
        model=model, prompt="Once upon a time", max_tokens=5, temperature=0, stream=True
    )
    assert "".join(c.choices[0].text for c in streamed if c.choices) == completion.choices[0].text


def test_openai_client_sees_errors_in_its_own_shape(server: RunningServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    assert "no model 'no-such-model'" in str(missing.value)
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(
            model=server.model_id(),
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}],
                }
            ],
        )
    assert "read text only" in str(bad.value) and "messages[0].content[0]" in str(bad.value)


def test_ollama_client_lists_chats_and_generates(server: RunningServer) -> None:
    client = ollama.Client(host=server.url)
    names = [m.model for m in client.list().models]
    assert names == [server.model_id()]
    name = f"{names[0]}:latest"  # as Ollama's own clients name models

    pieces = list(
        client.chat(
            model=name,
            messages=[{"role": "user", "content": "Hello"}],
            stream=True,
            options={"num_predict": 6, "temperature": 0, "seed": 3},
        )
    )
    assert pieces[-1].done and pieces[-1].done_reason == "length" and pieces[-1].eval_count == 6
    streamed = "".join(p.message.content or "" for p in pieces)
    whole = client.chat(
        model=name,
        messages=[{"role": "user", "content": "Hello"}],
        options={"num_predict": 6, "temperature": 0},
    )
    assert whole.message.content == streamed and whole.prompt_eval_count and whole.prompt_eval_count > 2

    generated = client.generate(model=name, prompt="Hello", options={"num_predict": 4, "temperature": 0})
    assert generated.response and generated.done and generated.eval_count == 4
    raw = client.generate(model=name, prompt="Once", raw=True, options={"num_predict": 4, "temperature": 0})
    assert raw.response and raw.response != generated.response  # no template around a raw prompt

    running = client.ps().models
    assert [m.model for m in running] == [names[0]] and running[0].expires_at is not None
    details = client.show(name).details
    assert details is not None and details.format == "gguf"

    with pytest.raises(ollama.ResponseError) as missing:
        client.chat(model="nothing:latest", messages=[{"role": "user", "content": "hi"}])
    assert missing.value.status_code == 404 and "no model 'nothing'" in missing.value.error
