"""One prompt, several models: the columns a comparison holds and the runner that fills them.

Shared by the side-by-side and blind-arena tabs, Qt-free: the window adapts the runner to
signals and gives it engines. By default one engine answers the columns one after the other
(each model loaded in turn), so they do not slow each other on a CPU; in parallel each column
has its own engine and all run at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from desktop.engine.protocol import (
    ChatMessage,
    EngineError,
    GenerationStats,
    LoadOptions,
    ModelLoaded,
    Sampling,
)
from desktop.settings import SettingsStore


@dataclass
class CompareColumn:
    """What one column holds: its model, the conversation so far and the last reply's figures."""

    model_path: str
    label: str
    messages: list[ChatMessage] = field(default_factory=list)
    reply: str = ""
    stats: GenerationStats | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "label": self.label,
            "messages": [{"role": m.role, "content": m.content} for m in self.messages],
        }


class ColumnEngine(Protocol):
    """What the runner needs of one engine; its events come back through the ``EngineListener``
    it was made with."""

    @property
    def model(self) -> ModelLoaded | None: ...

    def load(self, options: LoadOptions) -> None: ...

    def chat(self, messages: list[ChatMessage], sampling: Sampling) -> str: ...

    def cancel(self) -> None: ...

    def shutdown(self) -> None: ...


@dataclass(frozen=True)
class EngineListener:
    """One engine's events, bound to it: the front end calls these on the runner's thread."""

    loaded: Callable[[ModelLoaded], None]
    token: Callable[[str, str], None]  # request id, text
    finished: Callable[[GenerationStats], None]
    failed: Callable[[EngineError], None]


def _nothing(*_: object) -> None:
    return None


@dataclass
class RunnerEvents:
    column_changed: Callable[[int], None] = _nothing  # the column's index
    finished: Callable[[], None] = _nothing  # every column has answered (or stopped)
    failed: Callable[[str], None] = _nothing  # a column's failure, in words


class ColumnsRunner:
    """Sends one prompt to every column's model and streams the replies back."""

    def __init__(
        self,
        settings: SettingsStore,
        make_engine: Callable[[EngineListener], ColumnEngine],
        events: RunnerEvents,
    ) -> None:
        self._settings = settings
        self._make_engine = make_engine
        self._events = events
        self._engines: list[ColumnEngine] = []
        self.columns: list[CompareColumn] = []
        self._queues: list[list[int]] = []  # the columns each engine still has to answer
        self._current: dict[int, int] = {}  # engine index -> column it is answering
        # (engine, request id) -> column: each worker numbers its requests from 1
        self._requests: dict[tuple[int, str], int] = {}
        self._sampling = Sampling()
        self.busy = False
        self._stopping = False

    @property
    def engines(self) -> tuple[ColumnEngine, ...]:
        return tuple(self._engines)

    def set_columns(self, columns: list[CompareColumn]) -> None:
        self.stop()
        self.columns = columns

    def send(self, prompt: str, sampling: Sampling, parallel: bool) -> None:
        if self.busy or not self.columns:
            return
        self.busy = True
        self._stopping = False
        self._sampling = sampling
        for column in self.columns:
            column.messages.append(ChatMessage("user", prompt))
            column.reply, column.stats, column.error = "", None, None
        wanted = len(self.columns) if parallel else 1
        while len(self._engines) < wanted:
            index = len(self._engines)
            self._engines.append(
                self._make_engine(
                    EngineListener(
                        loaded=lambda loaded, i=index: self._on_loaded(i, loaded),  # type: ignore[misc]
                        token=lambda request, text, i=index: self._on_token(i, request, text),  # type: ignore[misc]
                        finished=lambda stats, i=index: self._on_finished(i, stats),  # type: ignore[misc]
                        failed=lambda error, i=index: self._on_failed(i, error),  # type: ignore[misc]
                    )
                )
            )
        while len(self._engines) > wanted:
            self._engines.pop().shutdown()
        self._queues = (
            [[i] for i in range(len(self.columns))] if parallel else [list(range(len(self.columns)))]
        )
        self._current = {}
        for engine_index in range(len(self._engines)):
            self._next(engine_index)

    def _next(self, engine_index: int) -> None:
        queue = self._queues[engine_index]
        if not queue:
            self._current.pop(engine_index, None)
            if not self._current:
                self.busy = False
                self._events.finished()
            return
        column_index = queue.pop(0)
        self._current[engine_index] = column_index
        engine = self._engines[engine_index]
        column = self.columns[column_index]
        self._events.column_changed(column_index)
        if engine.model is not None and engine.model.model_path == column.model_path:
            self._ask(engine_index)
        else:
            # The engine settings as they are now, not as they were when the window opened.
            engine.load(LoadOptions.from_settings(self._settings.current, column.model_path))

    def _on_loaded(self, engine_index: int, _loaded: ModelLoaded) -> None:
        if engine_index not in self._current:
            return
        if self._stopping:  # stopped while this model loaded: it never answers
            self._unanswered(self._current[engine_index])
            self._next(engine_index)
        else:
            self._ask(engine_index)

    def _unanswered(self, column_index: int) -> None:
        column = self.columns[column_index]
        if column.messages and column.messages[-1].role == "user":
            column.messages.pop()  # the prompt goes too: the conversation stays question, answer
        column.error = "Stopped before this model answered."
        self._events.column_changed(column_index)

    def _ask(self, engine_index: int) -> None:
        column_index = self._current[engine_index]
        request = self._engines[engine_index].chat(list(self.columns[column_index].messages), self._sampling)
        self._requests[(engine_index, request)] = column_index

    def _on_token(self, engine_index: int, request_id: str, text: str) -> None:
        column_index = self._requests.get((engine_index, request_id))
        if column_index is not None:
            self.columns[column_index].reply += text
            self._events.column_changed(column_index)

    def _on_finished(self, engine_index: int, stats: GenerationStats) -> None:
        column_index = self._requests.pop((engine_index, stats.request_id), None)
        if column_index is None:
            return
        column = self.columns[column_index]
        column.stats = stats
        column.messages.append(ChatMessage("assistant", stats.text))
        column.reply = ""
        self._events.column_changed(column_index)
        self._next(engine_index)

    def _on_failed(self, engine_index: int, error: EngineError) -> None:
        column_index = self._current.get(engine_index)
        if column_index is None:
            return
        column = self.columns[column_index]
        column.error = error.message
        if column.reply:  # what was written is kept
            column.messages.append(ChatMessage("assistant", column.reply))
            column.reply = ""
        self._requests = {r: c for r, c in self._requests.items() if c != column_index}
        self._events.column_changed(column_index)
        self._events.failed(f"{column.label}: {error.message}")
        self._next(engine_index)

    def writing(self, index: int) -> bool:
        """Whether column ``index`` still waits for this turn's reply."""
        column = self.columns[index]
        return self.busy and column.stats is None and column.error is None

    def stop(self) -> None:
        """Stops the replies being written and the ones still to come."""
        if not self.busy:
            return
        self._stopping = True
        for queue in self._queues:
            for column_index in queue:
                self._unanswered(column_index)
            queue.clear()
        for engine in self._engines:
            engine.cancel()

    def shutdown(self) -> None:
        for engine in self._engines:
            engine.shutdown()
        self._engines = []
