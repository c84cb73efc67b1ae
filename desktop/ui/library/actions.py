"""What the library's buttons and menus do: remove or hide a model, show its header, import
files, add a folder, verify a download; long work on the window's job runner."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from desktop.gguf.header import header_rows
from desktop.library.catalog import remove_model
from desktop.library.importing import ImportRefused, import_model
from desktop.library.scan import LocalModel
from desktop.library.verify import Verdict, verify_model
from desktop.ui.shell.dialogs import ask_import_mode, confirm_removal
from desktop.ui.shell.jobs import JobRunner
from desktop.units import count_of, format_bytes

if TYPE_CHECKING:
    from desktop.ui.shell.main_window import MainWindow


class LibraryActions(QObject):
    # Progress from a worker thread, delivered on the GUI thread.
    _verify_progress = Signal(int, int)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._jobs = JobRunner(self)
        self._verify_progress.connect(self._verify_progressed)

    def remove_model(self, model: LocalModel) -> None:
        choice = confirm_removal(self._window, model)
        if choice is None:
            return
        if self._window.engine.model is not None and Path(self._window.engine.model.model_path) == model.path:
            self._window.engine.unload()  # never delete a file out from under the engine
        self._jobs.start(
            lambda: remove_model(model, delete_file=choice == "delete"),
            lambda outcome: self._removed(model, outcome),
            lambda exc: self._remove_failed(model, exc),
        )

    def _remove_failed(self, model: LocalModel, exc: BaseException) -> None:
        QMessageBox.warning(self._window, "Remove model", f"{model.name} could not be removed: {exc}")

    def _removed(self, model: LocalModel, outcome: tuple[str, int]) -> None:
        action, freed = outcome
        if action == "deleted":
            self._window.message_after_refresh = f"Deleted {model.name}: {format_bytes(freed)} freed"
        else:
            self._window.message_after_refresh = f"{model.name} is hidden from Hearth; its file is untouched"
        self._window.library.refresh()

    def read_header(self, model: LocalModel) -> None:
        self._jobs.start(
            lambda: header_rows(model.path),
            lambda rows: self._window.my_models.show_header(model, rows),
            lambda exc: self._window.my_models.show_header(model, [("error", str(exc))]),
        )

    def choose_import(self) -> None:
        files, _filter = QFileDialog.getOpenFileNames(
            self._window, "Import GGUF models", "", "GGUF models (*.gguf)"
        )
        self.import_files([Path(f) for f in files])

    def import_files(self, files: list[Path]) -> None:
        if not files:
            return
        mode = ask_import_mode(self._window, files)
        if mode is None:
            return
        models_dir = self._window.context.models_dir

        def run() -> list[str]:
            problems: list[str] = []
            for file in files:
                try:
                    import_model(file, models_dir, mode)
                except ImportRefused as exc:
                    problems.append(str(exc))
            return problems

        def done(problems: list[str]) -> None:
            self._window.message_after_refresh = (
                "; ".join(problems) if problems else f"Imported {count_of(len(files), 'model')}"
            )
            self._window.library.refresh()

        self._window.statusBar().showMessage("Importing…")
        self._jobs.start(run, done, lambda exc: self._window.show_message(f"Import failed: {exc}"))

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self._window, "Add a folder of models")
        if folder:
            self.watch_folder(Path(folder))

    def watch_folder(self, folder: Path) -> None:
        """Its GGUF files are listed in place, and it is rescanned with the library."""
        if str(folder) not in self._window.context.settings.watched_folders:
            self._window.context.settings.watched_folders.append(str(folder))
            self._window.storage.save_settings(self._window.context.settings)
        self._window.library.refresh()

    def verify(self, model: LocalModel) -> None:
        self._verify_progress.emit(0, model.size_bytes)
        self._jobs.start(
            lambda: verify_model(model, on_bytes=self._verify_progress.emit),
            lambda verdicts: self._verified(model, verdicts),
            lambda exc: self._window.show_message(f"Could not verify {model.name}: {exc}"),
        )

    def _verify_progressed(self, done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        self._window.statusBar().showMessage(f"Verifying… {percent}%")

    def _verified(self, model: LocalModel, verdicts: list[Verdict]) -> None:
        if any(v.ok is False for v in verdicts):
            text = f"{model.name} is damaged: its sha256 does not match. Delete it and download it again."
        elif all(v.ok for v in verdicts):
            text = f"{model.name} is intact: its sha256 matches."
        else:
            text = f"{model.name} was read in full, but there is no recorded sha256 to check it against."
        self._window.show_message(text)

    def shutdown(self) -> None:
        self._jobs.wait()
