"""The local library, rescanned off the GUI thread into its item model."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.library.catalog import scan_library
from desktop.library.scan import LocalModel
from desktop.ui.jobs import JobRunner
from desktop.ui.library_model import LocalModelsModel


class Library(QObject):
    refreshed = Signal()
    error = Signal(str)

    def __init__(self, models_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.models_dir = models_dir
        self.model = LocalModelsModel(self)
        self._jobs = JobRunner(self)
        self._serial = 0

    def refresh(self) -> None:
        self._serial += 1
        serial = self._serial

        def done(models: list[LocalModel]) -> None:
            if serial == self._serial:
                if models != self.model.records():  # nothing changed: the view is left alone
                    self.model.set_records(models)
                self.refreshed.emit()

        def failed(exc: BaseException) -> None:
            self.error.emit(f"Could not read the models folder {self.models_dir}: {exc}")

        self._jobs.start(scan_library, done, failed)

    def find(self, path: str) -> LocalModel | None:
        row = self.model.row_of(path)
        return self.model.record(row) if row >= 0 else None

    def wait(self) -> None:
        self._jobs.wait()
