"""Structured output: replies that are JSON valid against a schema, enforced by a grammar in the
engine's sampler chain, through the official openai and ollama clients against a real server on
a factory model (random weights: only the grammar makes its replies JSON at all)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import jsonschema
import ollama
import openai
import pytest
from openai.types.shared_params import ResponseFormatJSONSchema

from desktop.engine.json_schema import MAX_COUNT, UnsupportedSchema, check_schema
from tests.serving import RunningServer, add_to_library, running_server

SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"enum": ["yes", "no", "maybe"]},
        "count": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3},
        "when": {"type": "string", "format": "date"},
    },
    "required": ["answer", "count", "tags", "when"],
    "additionalProperties": False,
}


@pytest.fixture
def server(models_dir: Path, model_cache: Callable[..., Path]) -> Iterator[RunningServer]:
    add_to_library(models_dir, model_cache())
    with running_server() as running:
        yield running


def test_every_sampled_reply_validates_against_the_schema(server: RunningServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    response_format: ResponseFormatJSONSchema = {
        "type": "json_schema",
        "json_schema": {"name": "reply", "schema": SCHEMA},
    }
    finished = 0
    for seed in range(12):
        reply = client.chat.completions.create(
            model=server.model_id(),
            messages=[{"role": "user", "content": "Answer in JSON."}],
            max_tokens=160,
            temperature=1.0,
            seed=seed,
            response_format=response_format,
        )
        choice = reply.choices[0]
        if choice.finish_reason == "length":  # cut by max_tokens, as OpenAI allows
            continue
        assert choice.finish_reason == "stop"
        jsonschema.validate(json.loads(choice.message.content or ""), SCHEMA)
        finished += 1
    assert finished >= 6

    # With penalties, which remember the prompt's tokens (the grammar sees the reply's only).
    penalised = client.chat.completions.create(
        model=server.model_id(),
        messages=[{"role": "user", "content": "Answer in JSON."}],
        max_tokens=160,
        temperature=0,
        frequency_penalty=0.5,
        presence_penalty=0.5,
        response_format=response_format,
    )
    if penalised.choices[0].finish_reason == "stop":
        jsonschema.validate(json.loads(penalised.choices[0].message.content or ""), SCHEMA)
    else:
        assert (penalised.choices[0].message.content or "").startswith("{")

    # Any JSON object, streamed: the pieces make one that parses, unless cut by max_tokens.
    endings = []
    for seed in range(6):
        streamed = client.chat.completions.create(
            model=server.model_id(),
            messages=[{"role": "user", "content": "Answer in JSON."}],
            max_tokens=96,
            temperature=1.0,
            seed=seed,
            response_format={"type": "json_object"},
            stream=True,
        )
        chunks = [c for c in streamed if c.choices]
        text = "".join(c.choices[0].delta.content or "" for c in chunks)
        endings.append(chunks[-1].choices[0].finish_reason)
        assert text.lstrip().startswith("{")
        if endings[-1] == "stop":
            assert isinstance(json.loads(text), dict)
    assert "stop" in endings


def test_ollama_format_takes_json_and_a_schema(server: RunningServer) -> None:
    client = ollama.Client(host=server.url)
    small = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    answer = client.chat(
        model=server.model_id(),
        messages=[{"role": "user", "content": "JSON please"}],
        format=small,
        options={"num_predict": 64, "temperature": 0},
    )
    assert answer.done_reason == "stop"
    jsonschema.validate(json.loads(answer.message.content or ""), small)
    generated = client.generate(
        model=server.model_id(), prompt="JSON please", format="json", options={"num_predict": 96, "seed": 3}
    )
    assert (generated.response or "").lstrip().startswith("{")  # even when cut by num_predict
    if generated.done_reason == "stop":
        assert isinstance(json.loads(generated.response or ""), dict)


def test_a_keyword_the_grammar_cannot_enforce_is_refused_by_name(server: RunningServer) -> None:
    bounded = {"type": "object", "properties": {"age": {"type": "integer", "minimum": 0}}}
    body = {
        "model": server.model_id(),
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": bounded}},
    }
    status, _, raw = server.request("POST", "/v1/chat/completions", body)
    error = json.loads(raw)["error"]
    assert status == 400 and error["param"] == "response_format.json_schema.schema.properties.age.minimum"
    assert "'minimum' cannot be enforced" in error["message"]

    status, _, raw = server.request(
        "POST",
        "/api/chat",
        {"model": server.model_id(), "messages": [{"role": "user", "content": "hi"}], "format": bounded},
    )
    assert status == 400 and "format.properties.age.minimum" in json.loads(raw)["error"]
    status, _, raw = server.request(
        "POST", "/api/generate", {"model": server.model_id(), "prompt": "hi", "format": "yaml"}
    )
    assert status == 400 and json.loads(raw)["error"] == "'format' must be \"json\" or a JSON schema"


@pytest.mark.parametrize(
    ("schema", "where"),
    [
        ({"type": "array", "uniqueItems": True}, "schema.uniqueItems"),
        ({"not": {"type": "string"}}, "schema.not"),
        ({"type": "string", "format": "email"}, "schema.format"),
        ({"type": "string", "pattern": "^a+$", "maxLength": 3}, "schema.maxLength"),
        ({"type": "string", "pattern": "^a+$", "format": "date"}, "schema.format"),
        ({"anyOf": [{"type": "string"}], "properties": {"a": {"type": "string"}}}, "schema.properties"),
        ({"$ref": "#/$defs/a", "maxLength": 2, "$defs": {"a": {"type": "string"}}}, "schema.maxLength"),
        ({"type": "object", "required": ["a"]}, "schema.required"),
        ({"type": "array", "items": {"type": "integer"}, "uniqueItems": True}, "schema.uniqueItems"),
        ({"$ref": "https://example.com/s.json"}, "schema.$ref"),
        ({"type": "widget"}, "schema.type"),
        # Counts past what llama.cpp's grammar parser holds, and nesting past reason.
        ({"type": "string", "maxLength": 5000}, "schema.maxLength"),
        ({"type": "array", "items": {"type": "string"}, "minItems": 1001}, "schema.minItems"),
        ({"type": "string", "pattern": "^[a-z]{2,3000}$"}, "schema.pattern"),
        ({"type": "string", "maxLength": -1}, "schema.maxLength"),
        (json.loads('{"items": ' * 70 + "{}" + "}" * 70), "schema" + ".items" * 65),
    ],
)
def test_schema_check_names_what_it_cannot_enforce(schema: object, where: str) -> None:
    with pytest.raises(UnsupportedSchema) as caught:
        check_schema(schema)
    assert caught.value.keyword == where


def test_schema_check_passes_what_it_enforces() -> None:
    check_schema(SCHEMA)
    check_schema({"$defs": {"a": {"type": "string"}}, "anyOf": [{"$ref": "#/$defs/a"}, {"type": "null"}]})
    check_schema({"title": "annotations constrain nothing", "description": "x", "type": "boolean"})
    check_schema({"type": "string", "maxLength": 1000})
    check_schema({"type": "string", "pattern": "^[a-z]{2,1000}$"})


def test_the_largest_counts_allowed_make_grammars_llama_cpp_takes(server: RunningServer) -> None:
    """At MAX_COUNT, the grammar still parses in the engine (a reply, not an error)."""
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    schemas: list[dict[str, object]] = [
        {"type": "string", "maxLength": MAX_COUNT},
        {"type": "array", "items": {"type": "integer"}, "maxItems": MAX_COUNT},
        {"type": "string", "pattern": f"^a{{0,{MAX_COUNT}}}$"},
    ]
    for schema in schemas:
        response_format: ResponseFormatJSONSchema = {
            "type": "json_schema",
            "json_schema": {"name": "x", "schema": schema},
        }
        reply = client.chat.completions.create(
            model=server.model_id(),
            messages=[{"role": "user", "content": "JSON"}],
            max_tokens=4,
            response_format=response_format,
        )
        assert reply.choices[0].finish_reason in ("stop", "length")
    status, _, raw = server.request("POST", "/v1/chat/completions", b"[" * 100_000)
    assert status == 400 and "nests too deep" in json.loads(raw)["error"]["message"]


def test_hearth_run_json_schema_prints_a_reply_that_validates(
    tmp_path: Path, model_cache: Callable[..., Path]
) -> None:
    from tests.test_cli import hearth

    model = model_cache()
    schema_file = tmp_path / "schema.json"
    small = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    schema_file.write_text(json.dumps(small))
    run = hearth("run", str(model), "JSON please", "--json-schema", str(schema_file), "--temperature", "0")
    assert run.returncode == 0, run.stderr
    jsonschema.validate(json.loads(run.stdout), small)

    schema_file.write_text(json.dumps({"type": "integer", "maximum": 3}))
    refused = hearth("run", str(model), "hi", "--json-schema", str(schema_file))
    assert (
        refused.returncode == 1 and "'schema.maximum'" in refused.stderr and "Traceback" not in refused.stderr
    )
    schema_file.write_text("{not json")
    broken = hearth("run", str(model), "hi", "--json-schema", str(schema_file))
    assert broken.returncode == 1 and "not valid JSON" in broken.stderr
