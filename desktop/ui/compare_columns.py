"""One prompt, several models: reply columns and the runner that fills them.

Shared by the side-by-side and blind-arena tabs. By default one worker runs the columns
one after the other (each model loaded in turn), so they do not slow each other on a CPU;
in parallel each column has its own worker and all run at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QListWidget,
    QListWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.chats.rendering import MessageRenderer, model_label
from desktop.engine.protocol import (
    ChatMessage,
    EngineError,
    GenerationStats,
    LoadOptions,
    ModelLoaded,
    Sampling,
)
from desktop.library.scan import LocalModel
from desktop.settings import SettingsStore
from desktop.ui.chat_transcript import theme_from
from desktop.ui.engine_bridge import EngineController
from desktop.units import format_bytes


def beside_checklist(owner: QWidget, title: str, checklist: ModelChecklist, content: QLayout) -> None:
    """The layout every compare tab shares: the titled model list on the left, ``content`` on the right."""
    checklist.setMaximumWidth(260)
    left = QVBoxLayout()
    left.addWidget(QLabel(title))
    left.addWidget(checklist, 1)
    layout = QHBoxLayout(owner)
    layout.addLayout(left)
    layout.addLayout(content, 1)


class ModelChecklist(QListWidget):
    """The library's usable models, each with a check box; at most ``limit`` checked."""

    changed = Signal()

    def __init__(self, name: str, limit: int = 4, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(name)
        self._limit = limit
        self.itemChanged.connect(self._on_change)

    def set_models(self, models: list[LocalModel]) -> None:
        kept = {m.path for m in self.checked()}
        self.blockSignals(True)
        self.clear()
        for model in models:
            if not model.ok:
                continue
            item = QListWidgetItem(model_label(str(model.path)))
            item.setData(Qt.ItemDataRole.UserRole, model)
            item.setToolTip(f"{model.path}\n{model.quant or '?'} · {format_bytes(model.size_bytes)}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if model.path in kept else Qt.CheckState.Unchecked)
            self.addItem(item)
        self.blockSignals(False)
        self.changed.emit()

    def checked(self) -> list[LocalModel]:
        return [
            self.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.count())
            if self.item(i).checkState() == Qt.CheckState.Checked
        ]

    def check(self, paths: list[str]) -> None:
        for i in range(self.count()):
            model: LocalModel = self.item(i).data(Qt.ItemDataRole.UserRole)
            state = Qt.CheckState.Checked if str(model.path) in paths else Qt.CheckState.Unchecked
            self.item(i).setCheckState(state)

    def _on_change(self, item: QListWidgetItem) -> None:
        if item.checkState() == Qt.CheckState.Checked and len(self.checked()) > self._limit:
            item.setCheckState(Qt.CheckState.Unchecked)  # re-enters with the box cleared
            return
        self.changed.emit()


@dataclass
class Column:
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


def figures(stats: GenerationStats | None) -> str:
    if stats is None:
        return ""
    parts = [
        f"{stats.ttft_ms:.0f} ms to first token",
        f"{stats.gen_tps:.1f} tokens/s",
        f"{stats.completion_tokens} tokens",
    ]
    if stats.peak_rss_bytes:
        parts.append(f"peak {format_bytes(stats.peak_rss_bytes)}")
    if stats.stop_reason == "cancelled":
        parts.append("stopped")
    return " · ".join(parts)


class ReplyColumn(QFrame):
    """Views only display: a title, the turns so far with the reply growing, its figures."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(title)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.view = QTextBrowser()
        self.view.setAccessibleName(f"Replies of {title}")
        self.view.setOpenLinks(False)
        self.figures = QLabel()
        self.figures.setAccessibleName(f"Figures of {title}")
        self.figures.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.figures)

    def show_column(self, column: Column, busy: bool) -> None:
        renderer = MessageRenderer(theme_from(self.palette()))
        dim = renderer.theme.dim
        parts: list[str] = []
        messages = column.messages + (
            [ChatMessage("assistant", column.reply)] if busy or column.reply else []
        )
        for message in messages:
            if message.role == "user":
                parts.append(f'<p style="color: {dim};"><b>You</b></p>' + renderer.plain(message.content))
            else:
                parts.append(renderer.reply_body(message.content, 0))
        if column.error:
            parts.append(f'<p style="color: {dim};">{renderer.plain(column.error)}</p>')
        bar = self.view.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        self.view.setHtml("".join(parts))
        if at_end:
            bar.setValue(bar.maximum())
        self.figures.setText("Writing…" if busy else figures(column.stats))


class ColumnsRunner(QObject):
    """Sends one prompt to every column's model and streams the replies back.

    Signals are emitted with the column's index; ``finished`` once all columns are done.
    """

    column_changed = Signal(int)
    finished = Signal()
    failed = Signal(str)

    def __init__(self, settings: SettingsStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._engines: list[EngineController] = []
        self.columns: list[Column] = []
        self._queues: list[list[int]] = []  # the columns each engine still has to answer
        self._current: dict[int, int] = {}  # engine index -> column it is answering
        # (engine, request id) -> column: each worker numbers its requests from 1
        self._requests: dict[tuple[int, str], int] = {}
        self._sampling = Sampling()
        self.busy = False
        self._stopping = False

    def set_columns(self, columns: list[Column]) -> None:
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
            engine = EngineController(self)
            index = len(self._engines)
            engine.loaded.connect(lambda loaded, i=index: self._on_loaded(i, loaded))
            engine.token.connect(lambda request, text, i=index: self._on_token(i, request, text))
            engine.finished.connect(lambda stats, i=index: self._on_finished(i, stats))
            engine.failed.connect(lambda error, i=index: self._on_failed(i, error))
            self._engines.append(engine)
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
                self.finished.emit()
            return
        column_index = queue.pop(0)
        self._current[engine_index] = column_index
        engine = self._engines[engine_index]
        column = self.columns[column_index]
        self.column_changed.emit(column_index)
        if engine.model is not None and engine.model.model_path == column.model_path:
            self._ask(engine_index)
        else:
            engine.load(LoadOptions.from_settings(self._settings.current, column.model_path))  # as set now

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
        self.column_changed.emit(column_index)

    def _ask(self, engine_index: int) -> None:
        column_index = self._current[engine_index]
        request = self._engines[engine_index].chat(list(self.columns[column_index].messages), self._sampling)
        self._requests[(engine_index, request)] = column_index

    def _on_token(self, engine_index: int, request_id: str, text: str) -> None:
        column_index = self._requests.get((engine_index, request_id))
        if column_index is not None:
            self.columns[column_index].reply += text
            self.column_changed.emit(column_index)

    def _on_finished(self, engine_index: int, stats: GenerationStats) -> None:
        column_index = self._requests.pop((engine_index, stats.request_id), None)
        if column_index is None:
            return
        column = self.columns[column_index]
        column.stats = stats
        column.messages.append(ChatMessage("assistant", stats.text))
        column.reply = ""
        self.column_changed.emit(column_index)
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
        self.column_changed.emit(column_index)
        self.failed.emit(f"{column.label}: {error.message}")
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
