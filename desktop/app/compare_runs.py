"""Speed and quality runs as the Compare tools and ``hearth bench``/``hearth eval`` make them:
which task runs next, what is measured, what is kept in the comparison history (with the
machine's facts), and how a run ends, in words. Qt-free: front ends give an engine port and
hand its task events to ``on_progress``/``on_done``/``on_failed``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from desktop.compare.recording import bench_metrics, keep_run, quality_metrics, reference_summary
from desktop.compare.results import CompareStore
from desktop.db import StorageError
from desktop.engine.protocol import EngineError, TaskDone, TaskProgress
from desktop.library.scan import LocalModel
from desktop.units import count_of


class TaskEngine(Protocol):
    def start_task(self, kind: str, **payload: object) -> str: ...

    def cancel(self) -> None: ...  # the task running now

    def unload(self) -> None: ...  # ends the worker: the next task starts a fresh one


def _nothing(*_: object) -> None:
    return None


@dataclass
class RunEvents:
    progress: Callable[[str, float], None] = _nothing  # stage in words, fraction of the whole run
    rows: Callable[[list[dict[str, Any]]], None] = _nothing  # figures to add, each with its "model"
    summary: Callable[[str], None] = _nothing  # the reference's own figures (quality runs)
    ended: Callable[[str], None] = _nothing  # how the run ended, in words
    saved: Callable[[], None] = _nothing  # kept in the history


class TaskRun(ABC):
    """What bench and eval runs share: ending in words, keeping the run, failing, cancelling."""

    kind = ""

    def __init__(self, store: CompareStore, engine: TaskEngine, events: RunEvents) -> None:
        self._store = store
        self._engine = engine
        self._events = events
        self.running = False
        self.measured: list[tuple[LocalModel, dict[str, Any]]] = []
        self.settings: dict[str, Any] = {}
        self.reported: dict[str, Any] = {}  # the llama.cpp build and devices, from the worker
        self.problem: str | None = None  # why the last run failed, was cancelled or was not kept

    def _end(self, message: str, problem: bool = True) -> None:
        self.running = False
        self.problem = message if problem else None
        self._engine.unload()
        self._events.ended(message)

    def _keep(self, done: str) -> None:
        """Keeps the run and ends it; a history that can't take it leaves the figures on screen."""
        try:
            keep_run(self._store, self.kind, self.settings, self.measured, self.reported)
        except StorageError as exc:
            self._end(f"{done}, not kept: {exc}")
            return
        self._events.saved()
        self._end(f"{done}; kept in Results.", problem=False)

    @abstractmethod
    def on_progress(self, event: TaskProgress) -> None: ...

    @abstractmethod
    def on_done(self, event: TaskDone) -> None: ...

    def on_failed(self, error: EngineError) -> None:
        if self.running:
            self._end(error.message)

    def cancel(self) -> None:
        if self.running:
            self._engine.cancel()
            self._end("Cancelled.")


class BenchRun(TaskRun):
    """pp512 and tg128 as llama-bench measures them, time to first token, load time and peak
    RAM: each model in a fresh worker, so its peak memory is its own."""

    kind = "bench"

    def __init__(self, store: CompareStore, engine: TaskEngine, events: RunEvents) -> None:
        super().__init__(store, engine, events)
        self._queue: list[LocalModel] = []
        self._current: LocalModel | None = None

    def start(self, models: list[LocalModel], reps: int) -> None:
        if not models:
            self._events.ended("Check the models to time.")
            return
        self._queue = list(models)
        self.measured = []
        self.settings = {"reps": reps}
        self.running = True
        self._next()

    def _next(self) -> None:
        self._engine.unload()
        if not self._queue:
            self._current = None
            if self.measured:
                self._keep(f"Measured {count_of(len(self.measured), 'model')}")
            else:
                self._end("Nothing was measured.")
            return
        self._current = self._queue.pop(0)
        self._engine.start_task("bench", model=str(self._current.path), reps=self.settings["reps"])

    def on_progress(self, event: TaskProgress) -> None:
        if self.running:
            total = len(self.measured) + len(self._queue) + 1
            self._events.progress(event.stage, (len(self.measured) + event.fraction) / total)

    def on_done(self, event: TaskDone) -> None:
        if not self.running or self._current is None:
            return
        self.reported = event.result
        metrics = bench_metrics(event.result)
        self.measured.append((self._current, metrics))
        self._events.rows([{**metrics, "model": str(self._current.path)}])
        self._next()

    def on_failed(self, error: EngineError) -> None:
        if self.running and self._current is not None:
            name = self._current.name
            self._queue = []
            self._current = None
            self._end(f"{name}: {error.message}")


class EvalRun(TaskRun):
    """Builds scored against a reference on one text: perplexity, KL divergence, same top, Δp."""

    kind = "eval"

    def __init__(self, store: CompareStore, engine: TaskEngine, events: RunEvents) -> None:
        super().__init__(store, engine, events)
        self.reference: LocalModel | None = None
        self.models: list[LocalModel] = []
        self.reference_scores: dict[str, Any] = {}

    def start(
        self,
        reference: LocalModel,
        models: list[LocalModel],
        text: str,
        n_ctx: int,
        workdir: str,
        source: str,
    ) -> None:
        """``source``: where the text came from, in words, as the history keeps it."""
        self.reference, self.models = reference, list(models)
        self.measured = []
        self.settings = {"n_ctx": n_ctx, "reference": str(reference.path), "text": source}
        self.running = True
        self._engine.start_task(
            "eval",
            reference=str(reference.path),
            models=[str(m.path) for m in models],
            text=text,
            n_ctx=n_ctx,
            workdir=workdir,
        )

    def on_progress(self, event: TaskProgress) -> None:
        if self.running:
            self._events.progress(event.stage, event.fraction)

    def on_done(self, event: TaskDone) -> None:
        if not self.running or self.reference is None:
            return
        self.reported = event.result
        self.measured = [
            (m, quality_metrics(p)) for m, p in zip(self.models, event.result["passes"], strict=True)
        ]
        self.reference_scores = event.result["reference"]["scores"]
        self._events.summary(reference_summary(self.reference.name, self.reference_scores))
        self._events.rows([{"model": str(m.path), **metrics} for m, metrics in self.measured])
        self._keep(f"Scored {count_of(len(self.measured), 'build')}")
