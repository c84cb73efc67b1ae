"""The local library, rescanned in a helper process into its item model, and again when its folders change.

The scan runs as ``hearth _scan`` in a QProcess: it is Python work, and on a two-core
machine a thread doing it took the interpreter lock from the window for up to 150 ms.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QProcess, QTimer, Signal

from desktop.childproc import child_argv
from desktop.db import StorageError, problem_from_json
from desktop.library.catalog import SCAN_SUBCOMMAND
from desktop.library.scan import LocalModel
from desktop.ui.library.model import LocalModelsModel

WATCH_DELAY_MS = 700  # a burst of changes (a copy, an unpacked folder) gives one rescan


class Library(QObject):
    refreshed = Signal()
    error = Signal(str)
    storage_problem = Signal(object)  # StorageError: library.sqlite3 can't be used; None: it can again

    def __init__(self, models_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.models_dir = models_dir
        self.model = LocalModelsModel(self)
        self._scan = QProcess(self)
        self._scan.finished.connect(self._scanned)
        self._again = False
        self._last_output = b""
        self.problem: StorageError | None = None
        self._watcher = QFileSystemWatcher(self)
        self._watched: set[str] = set()
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(WATCH_DELAY_MS)
        self._watcher.directoryChanged.connect(lambda _path: self._delay.start())
        self._delay.timeout.connect(self.refresh)

    def refresh(self) -> None:
        if self._scan.state() != QProcess.ProcessState.NotRunning:
            self._again = True  # one more scan when this one ends
            return
        argv = child_argv(SCAN_SUBCOMMAND)
        self._scan.start(argv[0], argv[1:])

    def _scanned(self, exit_code: int, status: QProcess.ExitStatus) -> None:
        output = bytes(self._scan.readAllStandardOutput().data())
        if status != QProcess.ExitStatus.NormalExit or exit_code != 0:
            detail = bytes(self._scan.readAllStandardError().data()).decode("utf-8", "replace").strip()
            last = detail.splitlines()[-1] if detail else f"exit code {exit_code}"
            self.error.emit(f"Could not read the models folder {self.models_dir}: {last}")
        elif output != self._last_output:  # an unchanged library leaves the view alone
            self._last_output = output
            try:
                data = json.loads(output)
                models = [LocalModel.from_json(row) for row in data["models"]]
            except (ValueError, KeyError, TypeError) as exc:
                self.error.emit(f"The library scan gave something unreadable: {exc}")
            else:
                if models != self.model.records():
                    self.model.set_records(models)
                self._watch(data["folders"])
                self._problem(problem_from_json(data.get("storage_problem")))
        self.refreshed.emit()
        if self._again:
            self._again = False
            self.refresh()

    def _problem(self, problem: StorageError | None) -> None:
        if str(problem or "") != str(self.problem or ""):  # said once, not at every rescan
            self.problem = problem
            self.storage_problem.emit(problem)

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
        """Closing: no more scans, and the one running is ended."""
        self._delay.stop()
        self._again = False
        if self._scan.state() != QProcess.ProcessState.NotRunning:
            self._scan.kill()
            self._scan.waitForFinished(3000)
