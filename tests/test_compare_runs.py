"""Speed runs without a window (desktop.app.compare_runs): real workers behind the blocking
port the command line uses, the real comparison history."""

from __future__ import annotations

from pathlib import Path

from desktop.app.client_engine import ClientTasks
from desktop.app.compare_runs import BenchRun, RunEvents
from desktop.compare.results import CompareStore
from desktop.library.scan import describe_model
from tests.news import News


def events(news: News) -> RunEvents:
    return RunEvents(
        progress=lambda _stage, fraction: news.append(("progress", fraction)),
        rows=news.note("rows"),
        ended=news.note("ended"),
        saved=news.note("saved"),
    )


def test_each_model_is_timed_in_a_fresh_worker_and_the_run_is_kept(model_cache, tmp_path: Path) -> None:
    a, b = describe_model(model_cache("bench-a.gguf")), describe_model(model_cache("bench-b.gguf", seed=5))
    store = CompareStore(tmp_path / "compare.sqlite3")
    news = News()
    tasks = ClientTasks()
    run = BenchRun(store, tasks, events(news))
    run.start([a, b], reps=1)
    first_worker = tasks._client
    tasks.pump(run)
    assert not run.running and run.problem is None and tasks._client is None  # the last worker ended
    assert first_worker is not None
    assert news.kinds("progress") == ["rows", "rows", "saved", "ended"]
    assert news[-1] == ("ended", "Measured 2 models; kept in Results.")
    fractions = [f for kind, f in news if kind == "progress" and isinstance(f, float)]
    assert fractions == sorted(fractions)  # one bar over the whole run
    kept = store.history("bench")
    assert [r.model for r in kept] == [str(a.path), str(b.path)]
    assert kept[0].machine["llama_cpp"] and kept[0].machine["devices"]  # the facts the figures depend on
    store.close()


def test_a_model_that_fails_ends_the_run_in_words_and_keeps_nothing(model_cache, tmp_path: Path) -> None:
    good = describe_model(model_cache("bench-a.gguf"))
    broken_path = tmp_path / "Broken-Q4_0.gguf"
    broken_path.write_bytes(model_cache("bench-a.gguf").read_bytes()[:4096])  # cut short
    broken = describe_model(broken_path)
    store = CompareStore(tmp_path / "compare.sqlite3")
    news = News()
    tasks = ClientTasks()
    run = BenchRun(store, tasks, events(news))
    run.start([good, broken], reps=1)
    tasks.pump(run)
    assert run.problem is not None and run.problem.startswith("Broken-Q4_0")
    assert news.kinds("progress") == ["rows", "ended"] and store.history() == []
    store.close()
