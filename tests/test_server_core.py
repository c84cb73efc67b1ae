"""The serving core's small parts: the order of turns, thinking told apart as it streams, names
an API may use, Ollama's keep_alive, and the rule that a server open to the network has a key."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import pytest

from desktop.app.served_models import ModelDirectory, UnknownModel
from desktop.app.server_config import ServerConfig, is_loopback
from desktop.app.turn_queue import QueueFull, TurnCancelled, TurnQueue
from desktop.gguf.reasoning import ReasoningStream, split_reasoning
from desktop.library.scan import LocalModel
from desktop.server.errors import ApiError
from desktop.server.guards import allowed_hosts
from desktop.server.ollama_api import keep_alive_seconds


def test_turns_are_taken_in_arrival_order_and_the_queue_is_bounded() -> None:
    turns = TurnQueue(max_waiting=3)
    never = threading.Event()
    order: list[int] = []
    turns.acquire(never)  # the reply in progress

    def wait_turn(n: int) -> None:
        with turns.turn(never):
            order.append(n)

    threads = []
    for n in range(3):
        threads.append(threading.Thread(target=wait_turn, args=(n,)))
        threads[-1].start()
        while turns.waiting != n + 1:
            time.sleep(0.005)
    with pytest.raises(QueueFull, match="3 requests are already waiting"):
        turns.acquire(never)
    gone = threading.Event()
    gone.set()
    assert not turns.try_acquire()
    turns.release()
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2] and turns.idle
    turns.acquire(never)
    with pytest.raises(TurnCancelled):
        turns.acquire(gone)  # a client that went away while waiting leaves the queue
    assert turns.waiting == 0


@pytest.mark.parametrize(
    "text",
    [
        "<think>\nweighing it up\n</think>\n\nThe answer.",
        "Plain answer, no thinking.",
        "<think>\nstill thinking when cut",
        "[THINK]hmm[/THINK]Yes.",
        "Before <thinking>mid</thinking> after.",
    ],
)
def test_streamed_thinking_matches_the_whole_reply_split(text: str) -> None:
    segments = split_reasoning(text)
    expected_thinking = "".join(s.text for s in segments if s.thinking)
    expected_answer = "".join(s.text for s in segments if not s.thinking)
    for size in (1, 2, 3, 7):  # markers split across pieces at every place
        stream = ReasoningStream()
        thinking = answer = ""
        for start in range(0, len(text), size):
            t, a = stream.feed(text[start : start + size])
            thinking, answer = thinking + t, answer + a
        t, a = stream.flush()
        thinking, answer = thinking + t, answer + a
        assert thinking.strip() == expected_thinking.strip()
        assert answer.replace(" ", "") == expected_answer.replace(" ", "")
        assert "<" not in thinking + answer or "<" in expected_answer


def _model(model_id: str, name: str) -> LocalModel:
    return LocalModel(
        id=model_id,
        name=name,
        path=Path(f"/models/{name}.gguf"),
        source="hearth",
        repo_id=None,
        architecture="llama",
        parameters=None,
        quant=None,
        size_bytes=1,
        shards=1,
        context_length=None,
        has_chat_template=True,
        status="ok",
        reason=None,
    )


def test_models_are_named_by_id_or_unique_name_never_by_path() -> None:
    models = [_model("aaa111", "Qwen3-4B"), _model("bbb222", "Twin"), _model("ccc333", "Twin")]
    directory = ModelDirectory(lambda: models)
    assert directory.find("aaa111").name == "Qwen3-4B"
    assert directory.find("aaa111:latest").id == "aaa111"
    assert directory.find("qwen3-4b").id == "aaa111"
    with pytest.raises(UnknownModel, match="more than one model is named 'Twin'"):
        directory.find("Twin")
    for name in ("/models/Qwen3-4B.gguf", "Qwen3-4B.gguf", ""):
        with pytest.raises(UnknownModel):
            directory.find(name)


def test_keep_alive_reads_ollamas_forms() -> None:
    assert keep_alive_seconds(None) is None
    assert keep_alive_seconds(0) == 0 and keep_alive_seconds("0") == 0
    assert keep_alive_seconds("5m") == 300 and keep_alive_seconds("1h30m") == 5400
    assert keep_alive_seconds(90) == 90 and keep_alive_seconds("250ms") == 0.25
    assert keep_alive_seconds(-1) == math.inf and keep_alive_seconds("-1m") == math.inf
    for bad in ("soon", "5 minutes", True, [5]):
        with pytest.raises(ApiError, match="keep_alive"):
            keep_alive_seconds(bad)


def test_a_server_open_to_the_network_needs_a_key() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("my-laptop")
    assert ServerConfig().refusal() is None
    assert "API key" in (ServerConfig(host="0.0.0.0").refusal() or "")
    assert ServerConfig(host="0.0.0.0", api_key="k").refusal() is None
    assert ServerConfig(host="::1", port=8).url == "http://[::1]:8"


def test_host_names_a_server_answers_to() -> None:
    assert allowed_hosts("127.0.0.1") == {"localhost", "127.0.0.1", "::1"}
    assert "192.168.1.5" in allowed_hosts("192.168.1.5")
    everywhere = allowed_hosts("0.0.0.0")
    assert {"localhost", "127.0.0.1"} <= everywhere and len(everywhere) > 3  # this machine's own names
    assert "attacker.example" not in everywhere
