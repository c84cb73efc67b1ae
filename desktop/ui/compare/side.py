"""The side-by-side tab: one prompt to several models, replies in columns; and the parts the arena shares."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.app.side_by_side import CompareColumn
from desktop.chats.message_html import model_label
from desktop.compare.results import CompareStore
from desktop.db import StorageError
from desktop.engine.protocol import ChatMessage, Sampling
from desktop.gguf.fit import system_memory_bytes
from desktop.library.scan import LocalModel
from desktop.settings import SettingsStore
from desktop.ui.compare.columns import ColumnsRunner, ModelChecklist, ReplyColumn
from desktop.units import format_bytes

CATEGORIES = ("General", "Writing", "Code", "Reasoning", "Facts", "Other")
MEMORY_SHARE = 0.7  # parallel runs only when every model fits this share of RAM together
PARALLEL_TIP = (
    "Off: one model after another, so they do not slow each other on the CPU. "
    "On: each model in its own process at once, when they fit in memory together."
)


class PromptBox(QWidget):
    """The prompt, Send (Ctrl+Enter) and Stop (Esc)."""

    sent = Signal(str)
    stopped = Signal()

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText(placeholder)
        self.text.setAccessibleName("Prompt")
        self.text.setMaximumHeight(90)
        self.send_button = QPushButton("Send")
        self.send_button.setToolTip("Send to every model (Ctrl+Enter)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the replies (Esc)")
        self.stop_button.setEnabled(False)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self.send_button.clicked.connect(self._send)
        self.stop_button.clicked.connect(self.stopped)
        QShortcut(QKeySequence("Ctrl+Return"), self.text, self._send)
        QShortcut(QKeySequence("Escape"), self, self.stopped.emit)

    def _send(self) -> None:
        prompt = self.text.toPlainText().strip()
        if prompt and self.send_button.isEnabled():
            self.text.clear()
            self.sent.emit(prompt)

    def set_busy(self, busy: bool, can_send: bool = True) -> None:
        self.send_button.setEnabled(not busy and can_send)
        self.stop_button.setEnabled(busy)


class SamplingRow(QWidget):
    """The sampling every column shares: temperature, seed and reply length."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(0.7)
        self.temperature.setAccessibleName("Temperature")
        self.temperature.setToolTip("The same for every model; 0 always picks the likeliest word.")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(42)
        self.seed.setAccessibleName("Seed")
        self.seed.setMaximumWidth(120)
        self.seed.setToolTip("The same seed for every model, so differences come from the models.")
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(1, 8192)
        self.max_tokens.setValue(512)
        self.max_tokens.setAccessibleName("Maximum tokens")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for label, widget in (
            ("Temperature", self.temperature),
            ("Seed", self.seed),
            ("Max tokens", self.max_tokens),
        ):
            layout.addWidget(QLabel(label))
            layout.addWidget(widget)
        layout.addStretch(1)

    def sampling(self) -> Sampling:
        return Sampling(
            max_tokens=self.max_tokens.value(), temperature=self.temperature.value(), seed=self.seed.value()
        )


class ColumnsArea(QSplitter):
    """The reply columns, one a model."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setChildrenCollapsible(False)
        self.views: list[ReplyColumn] = []
        # What to do, where the columns will be (an empty page says nothing by itself).
        self.hint = QLabel(
            "Check two to four models on the left, then write one prompt below: "
            "their replies stream here side by side, with the same sampling and seed."
        )
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.addWidget(self.hint)

    def set_titles(self, titles: list[str]) -> None:
        for view in self.views:
            view.setParent(None)
            view.deleteLater()
        self.hint.setVisible(not titles)
        self.views = [ReplyColumn(title) for title in titles]
        for view in self.views:
            self.addWidget(view)
        self.setSizes([0] + [1000] * len(self.views))  # the hint (first, hidden) then equal columns


MOST_COLUMNS = 4


class SideBySideTab(QWidget):
    """One prompt for 2 to 4 of the models checked in the Compare page's list, in columns."""

    needs = f"Side by side: check 2 to {MOST_COLUMNS} models; each answers in its own column."

    def __init__(
        self,
        settings: SettingsStore,
        store: CompareStore,
        models: ModelChecklist,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._saved_id: int | None = None
        self.models = models  # the page's list, shared with the other tabs
        self.sampling = SamplingRow()
        self.parallel = QCheckBox("Run at the same time")
        self.new_button = QPushButton("New")
        self.open_button = QPushButton("Open…")
        self.save_button = QPushButton("Save")
        self.new_button.setToolTip("Clear the columns and start again")
        self.save_button.setToolTip("Keep this comparison to open again later")
        self.area = ColumnsArea()
        self.prompt = PromptBox(f"One prompt for every checked model (2 to {MOST_COLUMNS})…")
        self.status = QLabel()
        self.status.setAccessibleName("Comparison status")
        self.runner = ColumnsRunner(settings, self)

        top = QHBoxLayout()
        top.addWidget(self.sampling, 1)
        top.addWidget(self.parallel)
        for button in (self.new_button, self.open_button, self.save_button):
            top.addWidget(button)
        right = QVBoxLayout()
        right.addLayout(top)
        right.addWidget(self.area, 1)
        right.addWidget(self.status)
        right.addWidget(self.prompt)
        self.setLayout(right)

        # Signals, wired in one place.
        self.models.changed.connect(self._models_changed)
        self.prompt.sent.connect(self.send)
        self.prompt.stopped.connect(self.runner.stop)
        self.runner.column_changed.connect(self._show_column)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self.status.setText)
        self.new_button.clicked.connect(self.new)
        self.save_button.clicked.connect(self.save)
        self.open_button.clicked.connect(self._open_menu)
        self._models_changed()

    def _too_many(self, chosen: list[LocalModel]) -> str:
        if len(chosen) <= MOST_COLUMNS:
            return ""
        return f"Side by side takes 2 to {MOST_COLUMNS} models; {len(chosen)} are checked. Uncheck some."

    def _models_changed(self) -> None:
        chosen = self.models.checked()
        too_many = self._too_many(chosen)
        together = sum(m.size_bytes for m in chosen)
        memory = system_memory_bytes()
        fits = together <= memory * MEMORY_SHARE
        self.parallel.setEnabled(fits)
        if not fits:
            self.parallel.setChecked(False)
        self.parallel.setToolTip(
            PARALLEL_TIP
            if fits
            else f"These models need {format_bytes(together)} together, more than this machine's "
            f"{format_bytes(memory)} of memory allows at once: they answer one after another."
        )
        if too_many or self.status.text().startswith("Side by side takes"):
            self.status.setText(too_many)
        if not too_many and not self.runner.busy and not any(c.messages for c in self.runner.columns):
            self._reset_columns(chosen)
        self.prompt.set_busy(self.runner.busy, can_send=2 <= len(chosen) <= MOST_COLUMNS)

    def _reset_columns(self, chosen: list[LocalModel]) -> None:
        columns = [CompareColumn(str(m.path), model_label(str(m.path))) for m in chosen]
        self.runner.set_columns(columns)
        self.area.set_titles([c.label for c in columns])

    def new(self) -> None:
        self.runner.stop()
        self._saved_id = None
        chosen = self.models.checked()
        self._reset_columns(chosen[:MOST_COLUMNS])
        self.status.setText(self._too_many(chosen))
        self.prompt.set_busy(False, can_send=2 <= len(chosen) <= MOST_COLUMNS)

    def send(self, prompt: str) -> None:
        too_many = self._too_many(self.models.checked())
        if too_many:
            self.status.setText(too_many)
            return
        chosen = [str(m.path) for m in self.models.checked()]
        if [c.model_path for c in self.runner.columns] != chosen:
            self._reset_columns(self.models.checked())  # the checked models changed: start afresh
        if len(self.runner.columns) < 2:
            self.status.setText("Check two to four models to compare.")
            return
        self.status.setText("One model after another…" if not self.parallel.isChecked() else "All at once…")
        self.prompt.set_busy(True)
        self.runner.send(prompt, self.sampling.sampling(), self.parallel.isChecked())

    def _show_column(self, index: int) -> None:
        if index < len(self.area.views):
            self.area.views[index].show_column(self.runner.columns[index], self.runner.writing(index))

    def _finished(self) -> None:
        for index in range(len(self.runner.columns)):
            self._show_column(index)
        self.prompt.set_busy(False, can_send=len(self.runner.columns) >= 2)
        self.status.setText("Done. Write again to go on in every column.")

    def content(self) -> dict[str, object]:
        sampling = self.sampling.sampling()
        return {
            "columns": [c.to_dict() for c in self.runner.columns],
            "sampling": {
                "temperature": sampling.temperature,
                "seed": sampling.seed,
                "max_tokens": sampling.max_tokens,
            },
            "parallel": self.parallel.isChecked(),
        }

    def save(self) -> None:
        columns = self.runner.columns
        if not any(c.messages for c in columns):
            self.status.setText("Nothing to save yet.")
            return
        first = next((m.content for m in columns[0].messages if m.role == "user"), "Comparison")
        title = f"{' vs '.join(c.label for c in columns)}: {first[:60]}"
        try:
            self._saved_id = self._store.save_comparison(title, self.content(), self._saved_id)
        except StorageError as exc:
            self.status.setText(f"Not saved: {exc}")
            return
        self.status.setText("Saved.")

    def _open_menu(self) -> None:
        menu = QMenu(self)
        saved = self._store.comparisons()
        if not saved:
            menu.addAction("No saved comparisons").setEnabled(False)
        for comparison_id, created, title in saved[:30]:
            action = menu.addAction(f"{title}  ({created[:10]})")
            action.triggered.connect(lambda _=False, i=comparison_id: self.open(i))
        menu.exec(self.open_button.mapToGlobal(self.open_button.rect().bottomLeft()))

    def open(self, comparison_id: int) -> None:
        content = self._store.comparison(comparison_id)
        if content is None:
            return
        self.runner.stop()
        raw_columns = content.get("columns", [])
        assert isinstance(raw_columns, list)
        columns = [
            CompareColumn(
                str(c["model_path"]),
                str(c["label"]),
                [ChatMessage(str(m["role"]), str(m["content"])) for m in c.get("messages", [])],
            )
            for c in raw_columns
        ]
        self.models.check([c.model_path for c in columns])
        self.runner.set_columns(columns)
        self.area.set_titles([c.label for c in columns])
        for index in range(len(columns)):
            self._show_column(index)
        sampling = content.get("sampling", {})
        if isinstance(sampling, dict):
            self.sampling.temperature.setValue(float(sampling.get("temperature", 0.7)))
            self.sampling.seed.setValue(int(sampling.get("seed", 42)))
            self.sampling.max_tokens.setValue(int(sampling.get("max_tokens", 512)))
        self._saved_id = comparison_id
        self.status.setText("Opened. Write again to go on in every column.")
