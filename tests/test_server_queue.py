"""Several clients at once: one reply at a time per model from a fair, bounded queue; a client
that goes away frees its turn; models loaded once, unloaded when idle, refused room in words."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from pathlib import Path

from desktop.app.model_service import GenerationRequest
from desktop.app.server_config import ServerConfig
from desktop.engine.protocol import ChatMessage, ModelLoaded, Sampling
from desktop.settings import Settings
from tests.serving import RunningServer, add_to_library, running_server

LONG_CONTEXT = 32768  # a reply this long takes minutes on the tiny model: it is always cut short


def long_model(models_dir: Path, model_cache: Callable[..., Path], name: str = "Long-F32.gguf") -> Path:
    return add_to_library(models_dir, model_cache(name, context_length=LONG_CONTEXT))


def chat(model: str, max_tokens: int, **extra: object) -> dict[str, object]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": "Hello"}],
        "max_tokens": max_tokens,
        **extra,
    }


def start_long_reply(
    server: RunningServer, model: str
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """A streamed reply that runs until its client goes away: the open connection and response."""
    conn = server.connection()
    conn.request(
        "POST", "/v1/chat/completions", body=json.dumps(chat(model, LONG_CONTEXT - 100, stream=True))
    )
    response = conn.getresponse()
    assert response.status == 200
    assert response.readline().startswith(b"data: ")  # it is writing
    return conn, response


Answer = tuple[int, dict[str, str], bytes]


def in_thread(func: Callable[[], Answer]) -> tuple[threading.Thread, list[Answer]]:
    """``func`` run on a thread; its answer lands in the list."""
    result: list[Answer] = []
    thread = threading.Thread(target=lambda: result.append(func()), daemon=True)
    thread.start()
    return thread, result


def test_full_queue_is_429_and_a_gone_client_frees_its_turn(models_dir: Path, model_cache) -> None:
    long_model(models_dir, model_cache)
    with running_server(ServerConfig(queue_length=1), settings=Settings(load_context=LONG_CONTEXT)) as server:
        model = server.service.directory.models()[0]
        busy, _ = start_long_reply(server, model.id)
        # A client that gives up while it waits leaves the queue.
        impatient = server.connection()
        impatient.request("POST", "/v1/chat/completions", body=json.dumps(chat(model.id, 3)))
        server.wait_for(lambda: server.service.waiting(model) == 1)
        impatient.close()
        server.wait_for(lambda: server.service.waiting(model) == 0, timeout=5)

        waiter, result = in_thread(lambda: server.request("POST", "/v1/chat/completions", chat(model.id, 3)))
        server.wait_for(lambda: server.service.waiting(model) == 1)

        status, headers, body = server.request(
            "POST", "/api/chat", {"model": model.id, "messages": [{"role": "user", "content": "hi"}]}
        )
        assert status == 429 and int(headers["retry-after"]) > 0
        assert "already waiting" in json.loads(body)["error"]
        status, _, body = server.request("POST", "/v1/chat/completions", chat(model.id, 3))
        assert status == 429 and json.loads(body)["error"]["type"] == "rate_limit_error"

        busy.close()  # the first client goes away: its reply stops, the next in line is served
        waiter.join(30)
        assert not waiter.is_alive()
        status, _, body = result[0]
        assert status == 200 and json.loads(body)["usage"]["completion_tokens"] == 3
        server.wait_for(lambda: server.service.in_flight() == 0)


def test_a_model_loads_once_for_requests_that_arrive_together(models_dir: Path, model_cache) -> None:
    add_to_library(models_dir, model_cache())
    with running_server() as server:
        model = server.service.directory.models()[0]
        job = GenerationRequest(model, [ChatMessage("user", "hi")], Sampling(max_tokens=2))
        loads: list[ModelLoaded] = []

        def one() -> None:
            for event in server.service.generate(job, threading.Event()):
                if isinstance(event, ModelLoaded):
                    loads.append(event)

        threads = [threading.Thread(target=one) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(loads) == 3 and all(loaded is loads[0] for loaded in loads)


def test_keep_alive_and_idle_unload(models_dir: Path, model_cache) -> None:
    add_to_library(models_dir, model_cache())
    with running_server(ServerConfig(idle_unload_s=0.5)) as server:
        model = server.model_id()
        status, _, reply = server.request("POST", "/api/generate", {"model": model})
        assert status == 200 and json.loads(reply)["done_reason"] == "load"
        assert [m["model"] for m in json.loads(server.request("GET", "/api/ps")[2])["models"]] == [model]
        server.wait_for(lambda: server.service.loaded() == [], timeout=10)  # idle past 0.5 s

        request: dict[str, object] = {
            "model": model,
            "prompt": "Hi",
            "stream": False,
            "options": {"num_predict": 2},
            "keep_alive": 0,
        }
        assert server.request("POST", "/api/generate", request)[0] == 200
        server.wait_for(lambda: server.service.loaded() == [], timeout=2)  # keep_alive 0: unloaded after it

        request |= {"keep_alive": "1h"}
        assert server.request("POST", "/api/generate", request)[0] == 200
        (loaded,) = server.service.loaded()
        assert loaded.expires_at is not None
        status, _, reply = server.request("POST", "/api/generate", {"model": model, "keep_alive": 0})
        assert (
            status == 200 and json.loads(reply)["done_reason"] == "unload" and server.service.loaded() == []
        )


def test_no_room_next_to_a_busy_model_is_503_in_words(models_dir: Path, model_cache) -> None:
    long_model(models_dir, model_cache)
    add_to_library(models_dir, model_cache(), repo="hearth-test/Other-GGUF")
    # A machine with no memory to spare: a second model fits only where the first can go.
    with running_server(settings=Settings(load_context=LONG_CONTEXT), available_memory=lambda: 0) as server:
        first, second = (m.id for m in server.service.directory.models())
        if server.service.directory.find(first).context_length != LONG_CONTEXT:
            first, second = second, first
        busy, _ = start_long_reply(server, first)
        status, _, body = server.request("POST", "/v1/chat/completions", chat(second, 2))
        message = json.loads(body)["error"]["message"]
        assert status == 503 and "needs about" in message and "answering other requests" in message

        busy.close()
        server.wait_for(lambda: server.service.in_flight() == 0)
        # Now idle, the first makes way for the second.
        status, _, _ = server.request("POST", "/v1/chat/completions", chat(second, 2))
        assert status == 200
        assert [m.model.id for m in server.service.loaded()] == [second]


def test_stopping_cuts_replies_short_in_words(models_dir: Path, model_cache) -> None:
    long_model(models_dir, model_cache)
    with running_server(settings=Settings(load_context=LONG_CONTEXT)) as server:
        model = server.service.directory.models()[0]
        _, streaming = start_long_reply(server, model.id)
        waiter, result = in_thread(lambda: server.request("POST", "/v1/chat/completions", chat(model.id, 3)))
        server.wait_for(lambda: server.service.waiting(model) == 1)

        assert server.service.cancel_all() == 2  # what SIGTERM and Ctrl+C do first
        last = streaming.read().decode().split("\n\n")[-2]
        assert json.loads(last.removeprefix("data: "))["error"]["message"] == (
            "The server is stopping: this reply was cut short."
        )
        waiter.join(30)
        status, _, body = result[0]
        assert status == 503
        assert json.loads(body)["error"]["message"] == "The server is stopping: this reply was cut short."
        status, _, body = server.request("POST", "/v1/chat/completions", chat(model.id, 3))
        assert status == 503 and "stopping" in json.loads(body)["error"]["message"]
