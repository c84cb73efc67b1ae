"""The engine's state as the application holds it (desktop.app.engine_host), without a window:
a real worker, its events handed to the host on this thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from desktop.app.engine_host import EngineHost, EngineState, HostEvents
from desktop.engine.protocol import ChatMessage, LoadOptions, Sampling
from tests.news import News


def until(host: EngineHost, done: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"still {host.state}"
        event = host.next_event(0.1)
        if event is not None:
            host.dispatch(event)


def now(host: EngineHost) -> tuple[EngineState, str | None, bool]:
    """State, running request, whether a model is loaded: read afresh each time."""
    return host.state, host.active_request, host.model is not None


def test_load_chat_and_unload_move_through_the_states(tiny_model: Path) -> None:
    news = News()
    host = EngineHost(
        HostEvents(
            state_changed=news.note("state"), loaded=news.note("loaded"), finished=news.note("finished")
        )
    )
    try:
        assert not host.ready()
        host.load(LoadOptions(str(tiny_model)))
        until(host, host.ready)
        assert host.model is not None and host.model.model_path == str(tiny_model)
        request = host.chat([ChatMessage("user", "Hi")], Sampling(max_tokens=4))
        assert now(host) == (EngineState.GENERATING, request, True)
        until(host, lambda: host.state == EngineState.READY)
        assert now(host) == (EngineState.READY, None, True)
        host.unload()
        assert now(host) == (EngineState.EMPTY, None, False)
        states = [value for kind, value in news if kind == "state"]
        assert states == [
            EngineState.LOADING,
            EngineState.READY,
            EngineState.GENERATING,
            EngineState.READY,
            EngineState.EMPTY,
        ]
        assert news.kinds("state") == ["loaded", "finished"]
    finally:
        host.shutdown()


def test_a_model_that_does_not_load_leaves_the_engine_empty_and_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    news = News()
    host = EngineHost(HostEvents(failed=news.note("failed")))
    try:
        host.load(LoadOptions(str(broken)))
        until(host, lambda: bool(news))
        [(kind, error)] = news
        assert kind == "failed" and host.state == EngineState.EMPTY and host.model is None
        assert "can't be used" in getattr(error, "message", "") or getattr(error, "kind", "") == "load"
    finally:
        host.shutdown()
