"""The speed and quality tabs: measured runs in the engine worker, with progress and cancel.

Each model's speed is measured in a fresh worker (its peak memory is that model's alone);
a quality run scores every chosen build against the reference in one worker. Finished runs
are kept in the history (``desktop.compare.results``) with the machine they ran on.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.app.compare_runs import BenchRun, EvalRun, RunEvents
from desktop.chats.message_html import model_label
from desktop.compare.recording import (
    QUALITY_BETTER,
    QUALITY_MEANING,
    QUALITY_TEXT,
    runs_text,
    spread_text,
)
from desktop.compare.results import CompareStore
from desktop.library.scan import LocalModel
from desktop.ui.compare.columns import ModelChecklist
from desktop.ui.shell.engine_controller import EngineController
from desktop.ui.shell.jobs import JobRunner
from desktop.ui.widgets.record_table import record_table
from desktop.ui.widgets.table_model import RecordTableModel, TableColumn
from desktop.units import format_bytes

MOST_RUN = 12  # models timed or scored in one run
# Quant precision, best first: the reference defaults to the most precise build on disk.
PRECISION = ("F32", "BF16", "F16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_0", "Q4_K_M", "Q4_K_S", "Q4_0")


def precision_rank(model: LocalModel) -> int:
    quant = (model.quant or "").upper()
    return PRECISION.index(quant) if quant in PRECISION else len(PRECISION)


class RunProgress(QWidget):
    """A stage line, a progress bar and Cancel."""

    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stage = QLabel("")
        self.stage.setAccessibleName("Run status")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setAccessibleName("Run progress")
        self.cancel = QPushButton("Cancel")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stage, 1)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel)
        self.cancel.clicked.connect(self.cancelled)
        self.set_running(False)

    def set_running(self, running: bool, text: str = "") -> None:
        self.bar.setVisible(running)
        self.cancel.setVisible(running)
        self.stage.setText(text)
        if running:
            self.bar.setValue(0)

    def show_progress(self, stage: str, fraction: float) -> None:
        self.stage.setText(stage)
        self.bar.setValue(int(fraction * 1000))


def _speed_columns() -> list[TableColumn[dict[str, Any]]]:
    def med(key: str) -> Any:
        return lambda r: statistics.median(r[key])

    def with_spread(key: str, digits: int = 1) -> Any:
        def text(r: dict[str, Any]) -> str:
            values = r[key]
            figure = spread_text(values, digits)
            return figure if len(values) > 1 else f"{figure} ({runs_text(len(values))})"

        return text

    return [
        TableColumn("Model", lambda r: model_label(r["model"])),
        TableColumn("Prompt t/s", with_spread("pp_tps"), med("pp_tps"), numeric=True),
        TableColumn("Generation t/s", with_spread("tg_tps"), med("tg_tps"), numeric=True),
        TableColumn(
            "First token", lambda r: f"{statistics.median(r['ttft_ms']):.0f} ms", med("ttft_ms"), numeric=True
        ),
        TableColumn("Load", lambda r: f"{r['load_ms']:.0f} ms", lambda r: r["load_ms"], numeric=True),
        TableColumn(
            "Peak RAM",
            lambda r: format_bytes(r["peak_rss_bytes"]),
            lambda r: r["peak_rss_bytes"],
            numeric=True,
        ),
    ]


class SpeedTab(QWidget):
    """pp512 and tg128 as llama-bench measures them, time to first token, load time and peak RAM."""

    run_saved = Signal()
    needs = f"Speed: check up to {MOST_RUN} models to time, one after another."

    def __init__(self, store: CompareStore, models: ModelChecklist, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = EngineController(self)
        self.models = models  # the page's list, shared with the other tabs
        self.reps = QSpinBox()
        self.reps.setRange(1, 20)
        self.reps.setValue(3)
        self.reps.setAccessibleName("Repetitions")
        self.reps.setToolTip(
            "Each figure is the median of this many runs; ± is their standard deviation"
            " (one run has none, and says so)."
        )
        self.run_button = QPushButton("Measure")
        self.progress = RunProgress()
        self.table_model: RecordTableModel[dict[str, Any]] = RecordTableModel(_speed_columns(), self)
        self.table = record_table(self.table_model, "Speed results")  # type: ignore[arg-type]

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Repetitions"))
        controls.addWidget(self.reps)
        controls.addStretch(1)
        controls.addWidget(self.run_button)
        right = QVBoxLayout()
        right.addLayout(controls)
        right.addWidget(self.progress)
        right.addWidget(self.table, 1)
        self.setLayout(right)

        self.run = BenchRun(
            store,
            self.engine,
            RunEvents(
                progress=self.progress.show_progress,
                rows=self.table_model.append_records,
                ended=self._ended,
                saved=self.run_saved.emit,
            ),
        )
        self.run_button.clicked.connect(self.start)
        self.progress.cancelled.connect(self.run.cancel)
        self.engine.task_progress.connect(self.run.on_progress)
        self.engine.task_done.connect(self.run.on_done)
        self.engine.failed.connect(self.run.on_failed)

    def start(self) -> None:
        models = self.models.checked()
        if not models:
            self.progress.set_running(False, "Check the models to time.")
            return
        if len(models) > MOST_RUN:
            self.progress.set_running(
                False, f"Speed times up to {MOST_RUN} models at once; {len(models)} are checked."
            )
            return
        self.table_model.set_records([])
        self.run_button.setEnabled(False)
        self.progress.set_running(True, "Starting…")
        self.run.start(models, self.reps.value())

    def cancel(self) -> None:
        self.run.cancel()

    def _ended(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.progress.set_running(False, message)

    def shutdown(self) -> None:
        self.engine.shutdown()


def _quality_columns() -> list[TableColumn[dict[str, Any]]]:
    def figure(title: str, key: str) -> TableColumn[dict[str, Any]]:
        better = QUALITY_BETTER[key]
        return TableColumn(
            f"{title}\n{better}",  # on two lines: the Model column keeps room at 1024 px
            lambda r: QUALITY_TEXT[key](r[key]),
            lambda r: r[key],
            numeric=True,
            header_tooltip=f"{QUALITY_MEANING[key]} {better.capitalize()}.",
        )

    return [
        TableColumn("Model", lambda r: model_label(r["model"])),
        figure("Perplexity", "ppl"),
        figure("KL divergence", "kld_mean"),
        figure("Same top", "top1_agreement"),
        figure("Δp", "delta_p_mean"),
        TableColumn(
            "Tokens", lambda r: f"{r['tokens_scored']:,}", lambda r: r["tokens_scored"], numeric=True
        ),
    ]


class QualityTab(QWidget):
    """Perplexity, KL divergence, top-1 agreement and Δp of quants against a reference build."""

    run_saved = Signal()
    _text_ready = Signal(object)  # the reference's own writing, or an exception
    _text_progress = Signal(str, float)
    needs = f"Quality: check up to {MOST_RUN} builds; each is scored against the reference."

    def __init__(self, store: CompareStore, models: ModelChecklist, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._jobs = JobRunner(self)
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._running: tuple[LocalModel, list[LocalModel]] | None = None
        self._reference_chosen = False  # the person picked one: no more suggestions
        self.engine = EngineController(self)
        self.reference = QComboBox()
        self.reference.setAccessibleName("Reference model")
        self.reference.setToolTip(
            "The most precise build on disk is chosen first (F16 over Q8_0 over Q6_K…)."
        )
        self.models = models  # the page's list, shared with the other tabs
        self.own_text = QRadioButton("The reference's own writing (made offline, kept for next time)")
        self.own_text.setChecked(True)
        self.file_text = QRadioButton("A text file:")
        self.file_button = QPushButton("Choose…")
        self.file_label = QLabel("none")
        self._file: Path | None = None
        self.ctx = QSpinBox()
        self.ctx.setRange(64, 8192)
        self.ctx.setSingleStep(64)
        self.ctx.setValue(512)
        self.ctx.setAccessibleName("Context per chunk")
        self.ctx.setToolTip("Tokens in each chunk; the second half of each is scored (as llama-perplexity).")
        self.run_button = QPushButton("Score")
        self.progress = RunProgress()
        self.table_model: RecordTableModel[dict[str, Any]] = RecordTableModel(_quality_columns(), self)
        self.table = record_table(self.table_model, "Quality results")  # type: ignore[arg-type]
        self.summary = QLabel()
        self.summary.setAccessibleName("Reference perplexity")

        reference_row = QHBoxLayout()
        reference_row.addWidget(QLabel("Reference"))
        reference_row.addWidget(self.reference, 1)
        reference_row.addWidget(QLabel("Chunk"))
        reference_row.addWidget(self.ctx)
        text_row = QHBoxLayout()
        text_row.addWidget(self.own_text)
        text_row.addStretch(1)
        text_row.addWidget(self.file_text)
        text_row.addWidget(self.file_button)
        text_row.addWidget(self.file_label)
        text_row.addWidget(self.run_button)
        right = QVBoxLayout()
        right.addLayout(reference_row)
        right.addLayout(text_row)
        right.addWidget(self.progress)
        right.addWidget(self.summary)
        right.addWidget(self.table, 1)
        self.setLayout(right)

        self.run_button.clicked.connect(self.start)
        self.models.changed.connect(self._suggest_reference)
        self.reference.activated.connect(lambda _i: setattr(self, "_reference_chosen", True))
        self.file_button.clicked.connect(self._choose_file)
        self.run = EvalRun(
            store,
            self.engine,
            RunEvents(
                # the first tenth of the bar is the reference writing the text
                progress=lambda stage, f: self.progress.show_progress(stage, 0.1 + 0.9 * f),
                rows=self.table_model.set_records,
                summary=self.summary.setText,
                ended=self._end,
                saved=self.run_saved.emit,
            ),
        )
        self.progress.cancelled.connect(self.cancel)
        self.engine.task_progress.connect(self.run.on_progress)
        self.engine.task_done.connect(self.run.on_done)
        self.engine.failed.connect(self.run.on_failed)
        self._text_ready.connect(self._with_text)
        self._text_progress.connect(lambda stage, f: self.progress.show_progress(stage, 0.1 * f))

    def set_library(self, models: list[LocalModel]) -> None:
        """The reference's choices; the page's list (shared) is filled by the page."""
        usable = sorted((m for m in models if m.ok), key=precision_rank)
        current = self.reference.currentData()
        self.reference.clear()
        for model in usable:
            self.reference.addItem(f"{model_label(str(model.path))} ({model.quant or '?'})", model)
        kept = next((i for i, m in enumerate(usable) if current is not None and m.path == current.path), 0)
        self.reference.setCurrentIndex(kept)

    def _suggest_reference(self) -> None:
        """The most precise build of the same model as the first one checked (same architecture and size)."""
        checked = self.models.checked()
        if self._reference_chosen or not checked:
            return
        family = (checked[0].architecture, checked[0].parameters)
        for i in range(self.reference.count()):  # listed most precise first
            model: LocalModel = self.reference.itemData(i)
            if (model.architecture, model.parameters) == family:
                self.reference.setCurrentIndex(i)
                return

    def set_text_file(self, path: Path) -> None:
        self._file = path
        self.file_label.setText(path.name)
        self.file_text.setChecked(True)

    def _choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Text to score on", "", "Text (*.txt *.md);;All files (*)"
        )
        if name:
            self.set_text_file(Path(name))

    def start(self) -> None:
        reference: LocalModel | None = self.reference.currentData()
        models = [m for m in self.models.checked() if reference is None or m.path != reference.path]
        if reference is None or not models:
            self.progress.set_running(False, "Choose a reference and check the builds to score against it.")
            return
        if len(models) > MOST_RUN:
            self.progress.set_running(
                False, f"Quality scores up to {MOST_RUN} builds at once; {len(models)} are checked."
            )
            return
        self._running = (reference, models)
        self.run_button.setEnabled(False)
        self.table_model.set_records([])
        self.summary.clear()
        self.progress.set_running(True, "Starting…")
        if self.file_text.isChecked():
            if self._file is None:
                self._end("Choose a text file first.")
                return
            try:
                text = self._file.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                self._end(f"Cannot read {self._file.name}: {exc.strerror}")
                return
            self._with_text(text)
        else:
            from desktop.compare.reference_text import reference_text

            wanted = 4 * self.ctx.value()
            self._jobs.start(
                lambda: reference_text(reference.path, wanted, self._text_progress.emit),
                self._text_ready.emit,
                self._text_ready.emit,
            )

    def _with_text(self, text: object) -> None:
        if self._running is None:
            return
        if isinstance(text, Exception):
            self._end(f"The reference could not write the test text: {text}")
            return
        reference, models = self._running
        self._workdir = tempfile.TemporaryDirectory(prefix="hearth-eval-")
        self.run.start(
            reference, models, str(text), self.ctx.value(), self._workdir.name, self._text_source()
        )

    def _text_source(self) -> str:
        return str(self._file) if self.file_text.isChecked() and self._file else "the reference's own writing"

    def cancel(self) -> None:
        if self.run.running:
            self.run.cancel()  # ends through _end
        elif self._running is not None:
            self._end("Cancelled.")  # while the reference writes the text

    def _end(self, message: str) -> None:
        self._running = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None
        self.run_button.setEnabled(True)
        self.progress.set_running(False, message)

    def shutdown(self) -> None:
        self.engine.shutdown()
        self._jobs.wait()
