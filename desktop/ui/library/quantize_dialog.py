"""Make a quant: another quantisation of an F16, BF16 or Q8_0 model; it lands in the library."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.chats.message_html import model_label
from desktop.compare.quantize import QUANT_TYPES, SOURCE_TYPES, target_for
from desktop.engine.protocol import EngineError, TaskDone, TaskProgress
from desktop.library.scan import LocalModel
from desktop.ui.shell.engine_controller import EngineController
from desktop.units import format_bytes


def quantizable(models: list[LocalModel]) -> list[LocalModel]:
    return [m for m in models if m.ok and (m.quant or "").upper() in SOURCE_TYPES]


class QuantizeDialog(QDialog):
    made = Signal(object)  # the new file's Path

    def __init__(
        self,
        models: list[LocalModel],
        models_dir: Path,
        chosen: LocalModel | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Make a quant")
        self._models_dir = models_dir
        self._target: Path | None = None
        self.engine = EngineController(self)
        self.source = QComboBox()
        self.source.setAccessibleName("Source model")
        for model in quantizable(models):
            self.source.addItem(
                f"{model_label(str(model.path))} ({model.quant}, {format_bytes(model.size_bytes)})", model
            )
        if chosen is not None:
            for i in range(self.source.count()):
                if self.source.itemData(i).path == chosen.path:
                    self.source.setCurrentIndex(i)
        self.kind = QComboBox()
        self.kind.addItems(list(QUANT_TYPES))
        self.kind.setCurrentText("Q4_K_M")
        self.kind.setAccessibleName("Quant type")
        self.kind.setToolTip("Q8_0 is nearly lossless; Q4_K_M is the usual balance; Q2_K is small but rough.")
        self.target = QLabel()
        self.target.setWordWrap(True)
        self.status = QLabel()
        self.status.setAccessibleName("Quantize status")
        self.status.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setAccessibleName("Quantize progress")
        self.bar.hide()
        self.make_button = QPushButton("Make")
        self.make_button.setDefault(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.addButton(self.make_button, QDialogButtonBox.ButtonRole.ActionRole)

        form = QFormLayout()
        form.addRow("From", self.source)
        form.addRow("Type", self.kind)
        form.addRow("Lands at", self.target)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        if self.source.count() == 0:
            self.status.setText("No F16, BF16, F32 or Q8_0 model in the library to quantize from.")
            self.make_button.setEnabled(False)

        self.source.currentIndexChanged.connect(self._show_target)
        self.kind.currentIndexChanged.connect(self._show_target)
        self.make_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        self.engine.task_progress.connect(self._progress)
        self.engine.task_done.connect(self._done)
        self.engine.failed.connect(self._failed)
        self._show_target()

    def _planned(self) -> Path | None:
        model: LocalModel | None = self.source.currentData()
        return target_for(model.path, self._models_dir, self.kind.currentText()) if model else None

    def _show_target(self) -> None:
        planned = self._planned()
        self.target.setText(str(planned) if planned else "")
        exists = planned is not None and planned.exists()
        self.make_button.setEnabled(planned is not None and not exists and self._target is None)
        self.status.setText("That quant is already in the library." if exists else "")

    def start(self) -> None:
        model: LocalModel | None = self.source.currentData()
        planned = self._planned()
        if model is None or planned is None:
            return
        planned.parent.mkdir(parents=True, exist_ok=True)
        self._target = planned
        self.make_button.setEnabled(False)
        self.bar.setValue(0)
        self.bar.show()
        self.status.setText(f"Making {planned.name}…")
        self.engine.start_task(
            "quantize", source=str(model.path), target=str(planned), type=self.kind.currentText()
        )

    def _progress(self, event: TaskProgress) -> None:
        self.bar.setValue(int(event.fraction * 1000))

    def _done(self, event: TaskDone) -> None:
        target = Path(event.result["path"])
        self._target = None
        self.bar.setValue(1000)
        self.status.setText(
            f"Made {target.name} ({format_bytes(target.stat().st_size)}); it is in the library."
        )
        self.engine.unload()
        self.made.emit(target)
        self._show_target()

    def _failed(self, error: EngineError) -> None:
        self._abandon(error.message)

    def _abandon(self, message: str) -> None:
        if self._target is not None:
            self.engine.unload()  # ends the worker if it is still writing
            self._target.with_name(self._target.name + ".partial").unlink(missing_ok=True)
            self._target = None
        self.bar.hide()
        self.status.setText(message)
        self._show_target()

    def reject(self) -> None:
        if self._target is not None:
            self._abandon("Cancelled; nothing was added.")
            return  # the first Close cancels, the next closes
        self.engine.shutdown()
        super().reject()
