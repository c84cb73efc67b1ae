"""One prompt, several models, on screen: the model checklist, the reply columns and the
runner's signals (its scheduling is desktop.app.side_by_side's). The checklist is the Compare
page's, one for every tab; the columns are shared by the side-by-side and blind-arena tabs."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.app.side_by_side import ColumnsRunner as SideBySide
from desktop.app.side_by_side import CompareColumn, EngineListener, RunnerEvents
from desktop.chats.message_html import MessageHtml, model_label
from desktop.engine.protocol import ChatMessage, GenerationStats, Sampling
from desktop.library.scan import LocalModel
from desktop.settings import SettingsStore
from desktop.ui.chat.transcript import theme_from
from desktop.ui.shell.engine_controller import EngineController
from desktop.units import format_bytes


def checklist_pane(checklist: ModelChecklist, hint: QLabel) -> QWidget:
    """The Compare page's left column: the one model list every tab uses, titled, with the
    current tab's needs beneath it (``hint``)."""
    checklist.setMinimumWidth(200)  # model names readable at 1024x700, elided, never scrolled sideways
    checklist.setMaximumWidth(300)
    checklist.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    checklist.setTextElideMode(Qt.TextElideMode.ElideRight)
    hint.setWordWrap(True)
    hint.setMaximumWidth(300)
    pane = QWidget()
    left = QVBoxLayout(pane)
    left.setContentsMargins(0, 0, 0, 0)
    left.addWidget(QLabel("Models"))
    left.addWidget(checklist, 1)
    left.addWidget(hint)
    return pane


class ModelChecklist(QListWidget):
    """The library's usable models, each with a check box; at most ``limit`` checked (any number
    without one: the Compare tabs sharing it each say how many they take)."""

    changed = Signal()

    def __init__(self, name: str, limit: int | None = None, parent: QWidget | None = None) -> None:
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
        checked = item.checkState() == Qt.CheckState.Checked
        if checked and self._limit is not None and len(self.checked()) > self._limit:
            item.setCheckState(Qt.CheckState.Unchecked)  # re-enters with the box cleared
            return
        self.changed.emit()


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

    def show_column(self, column: CompareColumn, busy: bool) -> None:
        renderer = MessageHtml(theme_from(self.palette()))
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
    """The application's ColumnsRunner (desktop.app.side_by_side) as signals, each column's
    engine an EngineController of the window's; ``column_changed`` carries the column's index."""

    column_changed = Signal(int)
    finished = Signal()
    failed = Signal(str)

    def __init__(self, settings: SettingsStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = SideBySide(
            settings,
            self._engine,
            RunnerEvents(self.column_changed.emit, self.finished.emit, self.failed.emit),
        )

    def _engine(self, listener: EngineListener) -> EngineController:
        engine = EngineController(self)
        engine.loaded.connect(listener.loaded)
        engine.token.connect(listener.token)
        engine.finished.connect(listener.finished)
        engine.failed.connect(listener.failed)
        return engine

    @property
    def columns(self) -> list[CompareColumn]:
        return self._runner.columns

    @property
    def engines(self) -> list[EngineController]:
        return [e for e in self._runner.engines if isinstance(e, EngineController)]

    @property
    def busy(self) -> bool:
        return self._runner.busy

    def set_columns(self, columns: list[CompareColumn]) -> None:
        self._runner.set_columns(columns)

    def send(self, prompt: str, sampling: Sampling, parallel: bool) -> None:
        self._runner.send(prompt, sampling, parallel)

    def writing(self, index: int) -> bool:
        return self._runner.writing(index)

    def stop(self) -> None:
        self._runner.stop()

    def shutdown(self) -> None:
        self._runner.shutdown()
