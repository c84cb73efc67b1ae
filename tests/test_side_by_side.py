"""One prompt, several models, without a window (desktop.app.side_by_side): the runner's
scheduling against real engine workers, each behind a small blocking port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from desktop.app.side_by_side import ColumnsRunner, CompareColumn, EngineListener, RunnerEvents
from desktop.engine.client import EngineClient
from desktop.engine.protocol import (
    ChatMessage,
    EngineError,
    GenerationStats,
    LoadOptions,
    ModelLoaded,
    Sampling,
    TokenEvent,
)
from desktop.settings import Settings, SettingsStore
from tests.news import News


class PortedEngine:
    """A ColumnEngine over an EngineClient; ``pump`` hands its events to the runner."""

    def __init__(self, listener: EngineListener) -> None:
        self.client = EngineClient()
        self.listener = listener
        self.model: ModelLoaded | None = None
        self.loads: list[LoadOptions] = []

    def load(self, options: LoadOptions) -> None:
        self.loads.append(options)
        self.client.load(options)

    def chat(self, messages: list[ChatMessage], sampling: Sampling) -> str:
        return self.client.chat(messages, sampling)

    def cancel(self) -> None:
        pass  # replies here are a few tokens long

    def shutdown(self) -> None:
        self.client.shutdown()

    def pump_one(self) -> bool:
        event = self.client.next_event(0.05)
        if event is None:
            return False
        if isinstance(event, ModelLoaded):
            self.model = event
            self.listener.loaded(event)
        elif isinstance(event, TokenEvent):
            self.listener.token(event.request_id, event.text)
        elif isinstance(event, GenerationStats):
            self.listener.finished(event)
        elif isinstance(event, EngineError):
            self.listener.failed(event)
        return True


@pytest.fixture
def engines() -> Iterator[list[PortedEngine]]:
    made: list[PortedEngine] = []
    yield made
    for engine in made:
        engine.shutdown()


def run(runner: ColumnsRunner, engines: list[PortedEngine], timeout_s: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while runner.busy:
        assert time.monotonic() < deadline, "the columns did not finish"
        for engine in list(engines):
            engine.pump_one()


def make_runner(settings: SettingsStore, engines: list[PortedEngine], news: News) -> ColumnsRunner:
    def make(listener: EngineListener) -> PortedEngine:
        engine = PortedEngine(listener)
        engines.append(engine)
        return engine

    events = RunnerEvents(news.note("column"), news.note("finished"), news.note("failed"))
    return ColumnsRunner(settings, make, events)


def test_one_engine_answers_every_column_in_turn_with_the_settings_as_they_are_now(
    model_cache: Callable[..., Path], engines: list[PortedEngine]
) -> None:
    a, b = model_cache("side-a.gguf"), model_cache("side-b.gguf", seed=3)
    settings = SettingsStore(Settings(load_context=256))
    news = News()
    runner = make_runner(settings, engines, news)
    runner.set_columns([CompareColumn(str(a), "A"), CompareColumn(str(b), "B")])
    runner.send("Hello", Sampling(max_tokens=4, seed=1), parallel=False)
    assert runner.busy and runner.writing(0) and runner.writing(1)
    run(runner, engines)
    assert len(engines) == 1 and news.kinds("column") == ["finished"]
    for column in runner.columns:
        assert column.stats is not None and column.error is None
        assert [m.role for m in column.messages] == ["user", "assistant"]
        assert column.messages[1].content == column.stats.text
    # Engine settings changed while the comparison is open reach the next load.
    settings.replace(replace(settings.current, load_context=512))
    runner.send("Again", Sampling(max_tokens=4, seed=1), parallel=False)
    run(runner, engines)
    assert [o.n_ctx for o in engines[0].loads] == [256, 256, 512, 512]
    assert all(len(c.messages) == 4 for c in runner.columns)


def test_in_parallel_a_failing_column_says_why_and_the_others_answer(
    model_cache: Callable[..., Path], engines: list[PortedEngine], tmp_path: Path
) -> None:
    good = model_cache("side-a.gguf")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    news = News()
    runner = make_runner(SettingsStore(Settings()), engines, news)
    runner.set_columns([CompareColumn(str(good), "Good"), CompareColumn(str(broken), "Broken")])
    runner.send("Hello", Sampling(max_tokens=4), parallel=True)
    run(runner, engines)
    assert len(engines) == 2
    ok, bad = runner.columns
    assert ok.stats is not None and ok.error is None
    assert bad.stats is None and bad.error and [m.role for m in bad.messages] == ["user"]
    [failure] = [text for kind, text in news if kind == "failed"]
    assert isinstance(failure, str) and failure.startswith("Broken: ")


def test_stopping_before_a_model_answers_leaves_its_conversation_as_it_was(
    model_cache: Callable[..., Path], engines: list[PortedEngine]
) -> None:
    a, b = model_cache("side-a.gguf"), model_cache("side-b.gguf", seed=3)
    news = News()
    runner = make_runner(SettingsStore(Settings()), engines, news)
    runner.set_columns([CompareColumn(str(a), "A"), CompareColumn(str(b), "B")])
    runner.send("Hello", Sampling(max_tokens=4), parallel=False)
    runner.stop()  # the first model is loading, the second waits its turn
    run(runner, engines)
    assert all(c.messages == [] and c.error == "Stopped before this model answered." for c in runner.columns)
    assert news.kinds("column") == ["finished"]
