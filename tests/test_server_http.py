"""The server on the wire: SSE and NDJSON framing, errors in each API's shape with the right
status, the Host check, the API key, CORS and the body cap; raw HTTP against a real server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop.app.server_config import ServerConfig
from desktop.gguf.tiny_model import CHATML_TEMPLATE
from tests.serving import RunningServer, add_to_library, running_server


@pytest.fixture
def tiny_path(models_dir: Path, model_cache: Callable[..., Path]) -> Path:
    return add_to_library(models_dir, model_cache())


@pytest.fixture
def server(tiny_path: Path) -> Iterator[RunningServer]:
    with running_server() as running:
        yield running


def chat_body(model: str, **extra: object) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 5, **extra}


def test_sse_framing_ends_with_done(server: RunningServer) -> None:
    status, headers, body = server.request(
        "POST", "/v1/chat/completions", chat_body(server.model_id(), stream=True)
    )
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    text = body.decode()
    assert text.endswith("data: [DONE]\n\n")
    events = text.split("\n\n")[:-1]
    assert all(e.startswith("data: ") and "\n" not in e for e in events)
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == server.model_id() for c in chunks)


def test_ollama_streams_ndjson(server: RunningServer) -> None:
    body = {"model": server.model_id(), "prompt": "Hello", "options": {"num_predict": 4}}
    status, headers, raw = server.request("POST", "/api/generate", body)
    assert status == 200 and headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in raw.decode().splitlines()]
    assert [line["done"] for line in lines] == [False] * (len(lines) - 1) + [True]
    assert lines[-1]["eval_count"] == 4 and lines[-1]["done_reason"] == "length"


def test_bad_requests_are_400s_that_name_the_field(server: RunningServer) -> None:
    model = server.model_id()
    status, _, body = server.request("POST", "/v1/chat/completions", b"{not json")
    assert status == 400 and "not valid JSON" in json.loads(body)["error"]["message"]

    status, _, body = server.request("POST", "/v1/chat/completions", chat_body(model, temperature="warm"))
    error = json.loads(body)["error"]
    assert status == 400 and error["param"] == "temperature" and error["type"] == "invalid_request_error"
    assert error["message"] == "'temperature' must be a number"

    bad_role = {
        "model": model,
        "messages": [{"role": "user", "content": "hi"}, {"role": "robot", "content": "x"}],
    }
    status, _, body = server.request("POST", "/v1/chat/completions", bad_role)
    assert status == 400 and json.loads(body)["error"]["param"] == "messages[1].role"

    status, _, body = server.request("POST", "/v1/chat/completions", chat_body(model, max_tokens=0))
    assert status == 400 and json.loads(body)["error"]["message"] == "'max_tokens' must be at least 1"

    # Ollama's routes answer in Ollama's shape.
    status, _, body = server.request("POST", "/api/chat", {"model": model, "messages": "hello"})
    assert status == 400 and json.loads(body) == {"error": "'messages' must be a list of objects"}
    status, _, body = server.request(
        "POST", "/api/generate", {"model": model, "prompt": "hi", "keep_alive": "soon"}
    )
    assert status == 400 and "keep_alive" in json.loads(body)["error"]
    for field, value in (("suffix", "}"), ("template", "{{ .Prompt }}"), ("context", [1, 2])):
        status, _, body = server.request(
            "POST", "/api/generate", {"model": model, "prompt": "hi", field: value}
        )
        assert status == 400 and json.loads(body)["error"].startswith(f"'{field}' is not supported"), field
    status, _, _ = server.request(  # empty, as some clients send them, they change nothing
        "POST",
        "/api/generate",
        {
            "model": model,
            "prompt": "hi",
            "suffix": "",
            "context": [],
            "stream": False,
            "options": {"num_predict": 4},
        },
    )
    assert status == 200


def test_a_path_is_never_a_model(server: RunningServer, tiny_path: Path) -> None:
    for name in (str(tiny_path), tiny_path.name, "../" + tiny_path.name):
        status, _, body = server.request("POST", "/v1/chat/completions", chat_body(name))
        assert status == 404, name
        assert json.loads(body)["error"]["code"] == "model_not_found"
    assert server.service.loaded() == []


def test_bodies_over_the_cap_are_refused(server: RunningServer) -> None:
    big = json.dumps(chat_body(server.model_id(), user="x" * (4 * 1024 * 1024))).encode()
    status, _, body = server.request("POST", "/v1/chat/completions", big)
    assert status == 413 and "larger than 4 MB" in json.loads(body)["error"]["message"]


def test_host_header_must_name_this_server(server: RunningServer) -> None:
    # A page on attacker.example whose name now resolves to 127.0.0.1 (DNS rebinding).
    status, _, body = server.request("GET", "/api/tags", headers={"Host": f"attacker.example:{server.port}"})
    assert status == 403 and "DNS rebinding" in json.loads(body)["error"]
    status, _, body = server.request("GET", "/v1/models", headers={"Host": "attacker.example"})
    assert status == 403 and json.loads(body)["error"]["type"] == "permission_error"
    for host in (f"localhost:{server.port}", f"127.0.0.1:{server.port}", f"[::1]:{server.port}"):
        assert server.request("GET", "/v1/models", headers={"Host": host})[0] == 200, host
    assert any(r.status == 403 and r.path == "/api/tags" for r in server.log)


def test_api_key_is_required_when_set(tiny_path: Path) -> None:
    with running_server(ServerConfig(api_key="s3cret")) as server:
        status, headers, body = server.request("GET", "/v1/models")
        assert status == 401 and headers["www-authenticate"] == "Bearer"
        assert "API key" in json.loads(body)["error"]["message"]
        assert server.request("GET", "/v1/models", headers={"Authorization": "Bearer wrong"})[0] == 401
        status, _, body = server.request("GET", "/api/tags", headers={"Authorization": "Bearer wrong"})
        assert status == 401 and "API key" in json.loads(body)["error"]
        assert server.request("GET", "/v1/models", headers={"Authorization": "Bearer s3cret"})[0] == 200


def test_cors_is_off_unless_origins_are_given(tiny_path: Path) -> None:
    preflight = {
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    with running_server() as server:
        _, headers, _ = server.request("OPTIONS", "/v1/chat/completions", headers=preflight)
        assert "access-control-allow-origin" not in headers
        _, headers, _ = server.request("GET", "/v1/models", headers={"Origin": "http://localhost:3000"})
        assert "access-control-allow-origin" not in headers
    with running_server(ServerConfig(cors_origins=("http://localhost:3000",), api_key="k")) as server:
        status, headers, _ = server.request("OPTIONS", "/v1/chat/completions", headers=preflight)
        assert status == 200 and headers["access-control-allow-origin"] == "http://localhost:3000"
        assert "authorization" in headers["access-control-allow-headers"].lower()
        other = server.request("OPTIONS", "/v1/models", headers=preflight | {"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other[1]
        status, headers, _ = server.request(
            "GET", "/v1/models", headers={"Origin": "http://localhost:3000", "Authorization": "Bearer k"}
        )
        assert status == 200 and headers["access-control-allow-origin"] == "http://localhost:3000"


def test_reasoning_goes_to_reasoning_content(models_dir: Path, model_cache: Callable[..., Path]) -> None:
    # A template that opens the thinking block, as DeepSeek-R1's does: the reply starts inside it.
    thinking = CHATML_TEMPLATE.replace("'<|im_start|>assistant\n'", "'<|im_start|>assistant\n<think>\n'")
    assert thinking != CHATML_TEMPLATE
    add_to_library(models_dir, model_cache("Thinker-F32.gguf", chat_template=thinking))
    with running_server() as server:
        request = chat_body(server.model_id(), temperature=0)
        status, _, body = server.request("POST", "/v1/chat/completions", request)
        message = json.loads(body)["choices"][0]["message"]
        assert status == 200 and message["content"] == "" and message["reasoning_content"]
        _, _, raw = server.request("POST", "/v1/chat/completions", request | {"stream": True})
        chunks = [json.loads(e.removeprefix("data: ")) for e in raw.decode().split("\n\n")[:-2]]
        deltas = [c["choices"][0]["delta"] for c in chunks]
        assert "".join(d.get("reasoning_content", "") for d in deltas) == message["reasoning_content"]
        assert "".join(d.get("content", "") for d in deltas) == ""
        assert "<think>" not in raw.decode()
