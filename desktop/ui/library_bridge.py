"""The local library, rescanned off the GUI thread into its item model, and again when its folders change."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from desktop.library.catalog import scan_library
from desktop.library.scan import LocalModel
from desktop.ui.jobs import JobRunner
from desktop.ui.library_model import LocalModelsModel

WATCH_DELAY_MS = 700  # a burst of changes (a copy, an unpacked folder) gives one rescan
MAX_WATCHED_FOLDERS = 2000


def folders_to_watch(models_dir: Path, models: list[LocalModel]) -> list[str]:
    """Hearth's models folder and its sub-folders, and the folder of every model elsewhere."""
    folders: set[str] = set()
    if models_dir.is_dir():
        for root, dirs, _files in os.walk(models_dir):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            folders.add(root)
            if len(folders) >= MAX_WATCHED_FOLDERS:
                break
    folders.update(str(m.path.parent) for m in models)
    return sorted(folders)[:MAX_WATCHED_FOLDERS]


class Library(QObject):
    refreshed = Signal()
    error = Signal(str)

    def __init__(self, models_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.models_dir = models_dir
        self.model = LocalModelsModel(self)
        self._jobs = JobRunner(self)
        self._serial = 0
        self._watcher = QFileSystemWatcher(self)
        self._watched: set[str] = set()
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(WATCH_DELAY_MS)
        self._watcher.directoryChanged.connect(lambda _path: self._delay.start())
        self._delay.timeout.connect(self.refresh)

    def refresh(self) -> None:
        self._serial += 1
        serial = self._serial
        models_dir = self.models_dir
        shown = self.model.records()

        def scan() -> tuple[list[LocalModel] | None, list[str]]:
            models = scan_library()
            # Compared here, off the GUI thread: an unchanged rescan leaves the view alone.
            return (None if models == shown else models), folders_to_watch(models_dir, models)

        def done(result: tuple[list[LocalModel] | None, list[str]]) -> None:
            models, folders = result
            if serial == self._serial:
                if models is not None:
                    self.model.set_records(models)
                self._watch(folders)
                self.refreshed.emit()

        def failed(exc: BaseException) -> None:
            self.error.emit(f"Could not read the models folder {self.models_dir}: {exc}")

        self._jobs.start(scan, done, failed)

    def _watch(self, folders: list[str]) -> None:
        wanted = set(folders)
        if wanted == self._watched:
            return
        current, self._watched = self._watched, wanted
        if current - wanted:
            self._watcher.removePaths(sorted(current - wanted))
        if wanted - current:
            self._watcher.addPaths(sorted(wanted - current))

    def find(self, path: str) -> LocalModel | None:
        row = self.model.row_of(path)
        return self.model.record(row) if row >= 0 else None

    def wait(self) -> None:
        self._delay.stop()
        self._jobs.wait()
