"""Tool calls: the tools rendered through real chat templates as their authors intended, the
families' call forms read back, and calls through the official openai and ollama clients against
a real server on factory models (random weights: only the grammar makes them call at all)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import ollama
import openai
import pytest
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment
from openai.types.chat import (
    ChatCompletionMessage,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
    ChatCompletionToolParam,
)

from desktop.engine import tool_calls
from desktop.engine.chat_template import render_prompt
from desktop.engine.protocol import ChatMessage, ToolCall
from tests.serving import RunningServer, add_to_library, running_server

TEMPLATES = Path(__file__).parent / "chat_templates"
WEATHER: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city now.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "maxLength": 12},
                "unit": {"enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
CLOCK: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The time now in a time zone.",
        "parameters": {
            "type": "object",
            "properties": {"zone": {"type": "string", "maxLength": 10}},
            "required": ["zone"],
            "additionalProperties": False,
        },
    },
}
TOOLS = [WEATHER, CLOCK]
PARAMETERS = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}


# --- real templates against a reference sandbox --------------------------------------------


def _reference(template: str, messages: list[dict[str, Any]], tools: list[Any], **tokens: str) -> str:
    """The prompt as transformers' apply_chat_template renders it: Jinja's immutable sandbox with
    trim_blocks and lstrip_blocks, loop controls, and its tojson, raise_exception, strftime_now."""

    def tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None, **kwargs: Any) -> str:
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, **kwargs)

    def raise_exception(message: str) -> None:
        raise RuntimeError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(template).render(
        messages=messages, tools=tools, add_generation_prompt=True, **tokens
    )


# Mistral's templates take call ids of nine letters and digits.
CALL = ToolCall("abc123XYZ", "get_weather", '{"city": "Oslo", "unit": "celsius"}')
CONVERSATION = [
    ChatMessage("system", "You are terse."),
    ChatMessage("user", "Weather in Oslo?"),
    ChatMessage("assistant", "", (CALL,)),
    ChatMessage("tool", '{"temperature": 4}', tool_call_id=CALL.id),
]  # the model answers next, from the tool's result
HF_MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Oslo?"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": CALL.id,
                "type": "function",
                "function": {"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}},
            }
        ],
    },
    {"role": "tool", "content": '{"temperature": 4}', "tool_call_id": CALL.id},
]
OSLO_CALL = (
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}\n</tool_call>'
)
# What each family's prompt must hold: the tools as its authors lay them out, the call and the
# result where the template puts them.
FAMILY_MARKS = {
    "qwen2_5": (
        "<tools>\n" + json.dumps(dict(WEATHER), ensure_ascii=False),
        OSLO_CALL,
        '<tool_response>\n{"temperature": 4}\n</tool_response>',
    ),
    "qwen3": (
        "<tools>\n" + json.dumps(dict(WEATHER), ensure_ascii=False),
        OSLO_CALL,
        '<tool_response>\n{"temperature": 4}\n</tool_response>',
    ),
    "llama3": (
        json.dumps(dict(WEATHER), indent=4),
        '{"name": "get_weather", "parameters": {"city": "Oslo", "unit": "celsius"}}',
        '<|start_header_id|>ipython<|end_header_id|>\n\n"{\\"temperature\\": 4}"<|eot_id|>',
    ),
    "mistral_nemo": (
        '[AVAILABLE_TOOLS][{"type": "function", "function": {"name": "get_weather"',
        '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}, '
        '"id": "abc123XYZ"}]',
        '[TOOL_RESULTS]{"content": {"temperature": 4}, "call_id": "abc123XYZ"}[/TOOL_RESULTS]',
    ),
}


@pytest.mark.parametrize("name", sorted(FAMILY_MARKS))
def test_real_templates_render_tools_as_their_authors_intended(name: str) -> None:
    template = (TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")
    tools = [dict(WEATHER)]
    ours = render_prompt(
        CONVERSATION, template=template, architecture="llama", tools=tools, bos_token="<s>", eos_token="</s>"
    )
    assert ours.source == "gguf", ours.note
    assert ours.text == _reference(template, HF_MESSAGES, tools, bos_token="<s>", eos_token="</s>")
    for mark in FAMILY_MARKS[name]:
        assert mark in ours.text, (mark, ours.text)
    assert tool_calls.format_for(template) == {"llama3": "llama3", "mistral_nemo": "mistral"}.get(
        name, "hermes"
    )


def test_templates_without_tools_get_the_generic_form() -> None:
    for name in ("gemma2", "phi3_5", "deepseek_r1_distill"):
        assert tool_calls.format_for((TEMPLATES / f"{name}.jinja").read_text()) == "generic"
    use = tool_calls.ToolUse(tool_calls.check_tools([WEATHER]), "auto")
    generic = tool_calls.generic_messages(CONVERSATION, use)
    assert generic[0].role == "system" and generic[0].content.startswith("You are terse.\n\n")
    assert '"name": "get_weather"' in generic[0].content and '"response"' in generic[0].content
    assert json.loads(generic[2].content) == {
        "tool_call": {"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}
    }
    assert generic[3].role == "user"
    assert generic[3].content == 'The tool get_weather answered: {"temperature": 4}'


# --- the families' call forms, read back ---------------------------------------------------

CUT = '<tool_call>\n{"name": "get_weather", "argum'  # a call cut by max_tokens


@pytest.mark.parametrize(
    ("fmt", "text", "words", "names"),
    [
        (
            "hermes",
            "Let me look.\n"
            '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>\n'
            '<tool_call>{"name": "get_time", "arguments": {"zone": "CET"}}</tool_call>',
            "Let me look.",
            ["get_weather", "get_time"],
        ),
        ("hermes", "No tools needed: it is 4 °C.", "No tools needed: it is 4 °C.", []),
        ("hermes", CUT, CUT, []),
        ("llama3", ' {"name": "get_weather", "parameters": {"city": "Oslo"}}', "", ["get_weather"]),
        ("llama3", "It is 4 °C in Oslo.", "It is 4 °C in Oslo.", []),
        (
            "mistral",
            '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Oslo"}, "id": "abc123XYZ"}]',
            "",
            ["get_weather"],
        ),
        ("generic", '{"tool_call": {"name": "get_weather", "arguments": {}}}', "", ["get_weather"]),
        ("generic", '{"response": "It is 4 °C."}', "It is 4 °C.", []),
        ("generic", '{"respo', '{"respo', []),
    ],
)
def test_each_family_form_is_read_back(fmt: str, text: str, words: str, names: list[str]) -> None:
    content, calls = tool_calls.parse_reply(fmt, text)
    assert content == words
    assert [c.name for c in calls] == names
    for call in calls:
        assert isinstance(json.loads(call.arguments), dict)
        assert call.id.startswith("call_") if fmt != "mistral" else len(call.id) == 9


def test_tools_the_grammar_cannot_enforce_are_named() -> None:
    bad = {"type": "function", "function": {"name": "f", "parameters": {"type": "integer", "minimum": 1}}}
    with pytest.raises(tool_calls.BadTools) as caught:
        tool_calls.check_tools([WEATHER, bad])
    assert caught.value.where == "tools[1].function.parameters.minimum"
    with pytest.raises(tool_calls.BadTools, match="two tools are called"):
        tool_calls.check_tools([WEATHER, WEATHER])
    with pytest.raises(tool_calls.BadTools, match="letters, digits"):
        tool_calls.check_tools([{"type": "function", "function": {"name": "no spaces"}}])


# --- through the server --------------------------------------------------------------------


@pytest.fixture
def hermes_server(models_dir: Path, model_cache: Callable[..., Path]) -> Iterator[RunningServer]:
    """A factory model with Qwen2.5's template: calls in <tool_call> blocks."""
    template = (TEMPLATES / "qwen2_5.jinja").read_text(encoding="utf-8")
    add_to_library(models_dir, model_cache("tiny-qwen-F32.gguf", chat_template=template))
    with running_server() as running:
        yield running


@pytest.fixture
def generic_server(models_dir: Path, model_cache: Callable[..., Path]) -> Iterator[RunningServer]:
    """A factory model whose ChatML template knows no tools: the generic form. Its random weights
    (seed 3) lean to the call where the form lets it choose (the default seed's, to the words)."""
    add_to_library(models_dir, model_cache("tiny-caller-F32.gguf", seed=3))
    with running_server() as running:
        yield running


def _client(server: RunningServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)


def _functions(message: ChatCompletionMessage) -> list[ChatCompletionMessageFunctionToolCall]:
    calls = message.tool_calls or []
    assert all(isinstance(call, ChatCompletionMessageFunctionToolCall) for call in calls)
    return [call for call in calls if isinstance(call, ChatCompletionMessageFunctionToolCall)]


def _check_call(name: str, arguments: str) -> dict[str, Any]:
    parsed = json.loads(arguments)
    jsonschema.validate(parsed, PARAMETERS[name])
    return dict(parsed)


def test_required_and_named_calls_are_well_formed_and_round_trip(hermes_server: RunningServer) -> None:
    client = _client(hermes_server)
    question: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Weather in Oslo?"}]
    for seed in range(4):
        reply = client.chat.completions.create(
            model=hermes_server.model_id(),
            messages=question,
            tools=TOOLS,
            tool_choice="required",
            max_tokens=200,
            temperature=1.0,
            seed=seed,
        )
        choice = reply.choices[0]
        assert choice.finish_reason == "tool_calls", choice
        assert choice.message.tool_calls
        for call in _functions(choice.message):
            assert call.id.startswith("call_")
            _check_call(call.function.name, call.function.arguments)

    named = client.chat.completions.create(
        model=hermes_server.model_id(),
        messages=question,
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_time"}},
        parallel_tool_calls=False,
        max_tokens=200,
        seed=7,
    )
    calls = _functions(named.choices[0].message)
    assert named.choices[0].finish_reason == "tool_calls"
    assert [c.function.name for c in calls] == ["get_time"]
    _check_call("get_time", calls[0].function.arguments)

    # The result goes back in a tool message; the model answers in words (no call forced).
    round_trip: list[ChatCompletionMessageParam] = [
        *question,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": calls[0].id,
                    "type": "function",
                    "function": {"name": "get_time", "arguments": calls[0].function.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": calls[0].id, "content": '{"time": "12:00"}'},
    ]
    answer = client.chat.completions.create(
        model=hermes_server.model_id(), messages=round_trip, tools=TOOLS, max_tokens=8, seed=1
    )
    assert answer.choices[0].finish_reason in ("stop", "length", "tool_calls")
    # The call and its result are in the prompt the model answered (it grew by both).
    assert answer.usage is not None and named.usage is not None
    assert answer.usage.prompt_tokens > named.usage.prompt_tokens + len(calls[0].function.arguments) // 4


def test_a_forced_call_streams_as_tool_call_deltas(hermes_server: RunningServer) -> None:
    stream = _client(hermes_server).chat.completions.create(
        model=hermes_server.model_id(),
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[WEATHER],
        tool_choice="required",
        parallel_tool_calls=False,
        max_tokens=200,
        seed=3,
        stream=True,
    )
    calls: dict[int, dict[str, str]] = {}
    reasons = []
    for chunk in stream:
        delta = chunk.choices[0].delta
        for piece in delta.tool_calls or []:
            entry = calls.setdefault(piece.index, {"name": "", "arguments": ""})
            if piece.function is not None:
                entry["name"] += piece.function.name or ""
                entry["arguments"] += piece.function.arguments or ""
        assert not (delta.content or "").strip()  # nothing of the call leaks as text
        reasons.append(chunk.choices[0].finish_reason)
    assert reasons[-1] == "tool_calls"
    assert [c["name"] for c in calls.values()] == ["get_weather"]
    _check_call("get_weather", calls[0]["arguments"])


def test_auto_in_the_generic_form_is_a_call_or_words(generic_server: RunningServer) -> None:
    client = _client(generic_server)
    kinds = set()
    for seed in range(4):
        reply = client.chat.completions.create(
            model=generic_server.model_id(),
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather?"}],
            tools=TOOLS,
            max_tokens=250,
            temperature=1.0,
            seed=seed,
        )
        choice = reply.choices[0]
        if choice.finish_reason == "length":
            assert (choice.message.content or "").startswith("{")  # the form, cut short
            continue
        if choice.message.tool_calls:
            assert choice.finish_reason == "tool_calls" and not choice.message.content
            for call in _functions(choice.message):
                _check_call(call.function.name, call.function.arguments)
            kinds.add("call")
        else:
            assert choice.finish_reason == "stop"
            assert not (choice.message.content or "").startswith('{"response"')
            kinds.add("words")
    assert "call" in kinds
    # Cut short, the held-back JSON is the reply's words: streamed at its end, the same text.
    question: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Weather?"}]
    model = generic_server.model_id()
    whole = client.chat.completions.create(
        model=model, messages=question, tools=TOOLS, max_tokens=20, temperature=0
    )
    assert whole.choices[0].finish_reason == "length" and whole.choices[0].message.content
    pieces = client.chat.completions.create(
        model=model, messages=question, tools=TOOLS, max_tokens=20, temperature=0, stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in pieces) == whole.choices[0].message.content
    none = client.chat.completions.create(
        model=generic_server.model_id(),
        messages=[{"role": "user", "content": "Weather?"}],
        tools=TOOLS,
        tool_choice="none",
        max_tokens=6,
    )
    assert none.choices[0].message.tool_calls is None


# The ollama client keeps only type, description and enum of a parameter (no maxLength): a
# string would run on for as long as the random model writes, so the city is one of a list.
FORECAST = {
    "type": "function",
    "function": {
        "name": "get_forecast",
        "description": "Tomorrow's weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Oslo", "Bergen"]}},
            "required": ["city"],
        },
    },
}


def test_ollama_chat_takes_tools(generic_server: RunningServer) -> None:
    client = ollama.Client(host=generic_server.url)
    found = None
    for seed in range(8):
        response = client.chat(
            model=generic_server.model_id(),
            messages=[{"role": "user", "content": "Weather in Oslo?"}],
            tools=[FORECAST],
            options={"seed": seed, "temperature": 1.0, "num_predict": 250},
            stream=False,
        )
        if response.message.tool_calls:
            found = response.message.tool_calls[0]
            break
    assert found is not None
    assert found.function.name == "get_forecast"
    assert dict(found.function.arguments) in ({"city": "Oslo"}, {"city": "Bergen"})
    # Streamed, the call comes whole in one message before the last.
    parts = list(
        client.chat(
            model=generic_server.model_id(),
            messages=[{"role": "user", "content": "Weather in Oslo?"}],
            tools=[FORECAST],
            options={"seed": seed, "temperature": 1.0, "num_predict": 250},
            stream=True,
        )
    )
    streamed = [call for part in parts for call in part.message.tool_calls or []]
    assert parts[-1].done and [c.function.name for c in streamed] == ["get_forecast"]
    assert dict(streamed[0].function.arguments) == dict(found.function.arguments)
    assert not "".join(part.message.content or "" for part in parts)
    # The result back as Ollama sends it: a "tool" message naming the tool.
    answer = client.chat(
        model=generic_server.model_id(),
        messages=[
            {"role": "user", "content": "Weather in Oslo?"},
            {"role": "assistant", "content": "", "tool_calls": [found]},
            {"role": "tool", "content": '{"temperature": 4}', "tool_name": "get_forecast"},
        ],
        tools=[FORECAST],
        options={"num_predict": 8},
        stream=False,
    )
    assert answer.done
    # The call and its result went into the prompt: longer than the question's (with the same
    # tools) alone.
    assert (answer.prompt_eval_count or 0) > (response.prompt_eval_count or 0) + 10


def test_what_tool_calls_cannot_do_is_refused_by_name(hermes_server: RunningServer) -> None:
    def post(extra: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        body = {
            "model": hermes_server.model_id(),
            "messages": [{"role": "user", "content": "Hi"}],
            "tools": TOOLS,
        } | extra
        status, _headers, data = hermes_server.request("POST", "/v1/chat/completions", body)
        return status, json.loads(data)["error"] if status != 200 else {}

    bad = {"type": "function", "function": {"name": "f", "parameters": {"type": "integer", "minimum": 1}}}
    status, error = post({"tools": [bad]})
    assert status == 400 and error["param"] == "tools[0].function.parameters.minimum"
    status, error = post({"tool_choice": {"type": "function", "function": {"name": "nothing"}}})
    assert status == 400 and "'nothing'" in error["message"]
    status, error = post({"response_format": {"type": "json_object"}})
    assert status == 400 and error["param"] == "response_format"
    status, error = post({"tools": None, "functions": [{"name": "f"}]})
    assert status == 400 and "old form" in error["message"]
    status, error = post({"tools": [], "tool_choice": "required"})
    assert status == 400 and error["param"] == "tool_choice"
    status, error = post({"messages": [{"role": "tool", "content": "4"}]})
    assert status == 400 and error["param"] == "messages[0].tool_call_id"


@pytest.mark.parametrize(("name", "id_length"), [("llama3", 29), ("mistral_nemo", 9)])
def test_llama3_and_mistral_forms_are_forced_and_read_back(
    name: str, id_length: int, models_dir: Path, model_cache: Callable[..., Path]
) -> None:
    template = (TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")
    add_to_library(models_dir, model_cache(f"tiny-{name}-F32.gguf", chat_template=template))
    with running_server() as server:
        client = _client(server)
        for parallel in (False, True):
            reply = client.chat.completions.create(
                model=server.model_id(),
                messages=[{"role": "user", "content": "Weather in Oslo?"}],
                tools=TOOLS,
                tool_choice="required",
                parallel_tool_calls=parallel,
                max_tokens=200,
                seed=5,
            )
            assert reply.choices[0].finish_reason == "tool_calls"
            calls = _functions(reply.choices[0].message)
            assert calls and (parallel or len(calls) == 1)
            for call in calls:
                assert len(call.id) == id_length
                _check_call(call.function.name, call.function.arguments)
