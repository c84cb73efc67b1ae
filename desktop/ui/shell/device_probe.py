"""The devices llama.cpp sees (GPUs and their free memory), asked of a child process a few
seconds after start-up; told through ``found`` once. And the speed probe (how fast llama.cpp
reads weights here: desktop/app/machine_speed.py), run once a machine in a child process."""

from __future__ import annotations

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from desktop.childproc import child_argv
from desktop.engine.devices import LOW_PRIORITY_ENV, Device, parse_devices, probe_command

PROBE_DELAY_MS = 4000


class DeviceProbe(QObject):
    found = Signal(object)  # list[Device]

    def __init__(self, parent: QObject | None = None, delay_ms: int = PROBE_DELAY_MS) -> None:
        super().__init__(parent)
        self.devices: list[Device] = []  # as the probe found them (none before it ends)
        self.done = False
        self._process = QProcess(self)
        # A few seconds in, not at start-up: on a two-core machine the probe (a Python process
        # loading llama.cpp) would compete with the window's first moments.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start)
        self._timer.start(delay_ms)

    def _start(self) -> None:
        """A QProcess, not a thread running subprocess: forking the GUI process from a Python
        thread stalled the window for up to a second on a busy two-core machine."""
        argv, env = probe_command()
        environment = QProcessEnvironment()
        for key, value in env.items():
            environment.insert(key, value)
        self._process.setProcessEnvironment(environment)
        self._process.finished.connect(self._finished)
        self._process.start(argv[0], argv[1:])

    def _finished(self) -> None:
        output = bytes(self._process.readAllStandardOutput().data()).decode("utf-8", "replace")
        self.devices = parse_devices(output)
        self.done = True
        self.found.emit(self.devices)

    def shutdown(self) -> None:
        self._timer.stop()  # closing before the probe started: it never starts
        if self._process.state() != QProcess.ProcessState.NotRunning:
            self._process.kill()
            self._process.waitForFinished(2000)


class SpeedProbe(QObject):
    """Runs the speed probe (``hearth _speed``, a few seconds of llama.cpp writing tokens) in a
    child process of low priority; ``finished`` once it has written its figure to the cache."""

    finished = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.running = False
        self._process = QProcess(self)
        self._process.finished.connect(self._finished)

    def start(self) -> None:
        if self.running:
            return
        self.running = True
        argv = child_argv("_speed")
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert(LOW_PRIORITY_ENV, "1")
        self._process.setProcessEnvironment(environment)
        self._process.start(argv[0], argv[1:])

    def _finished(self) -> None:
        self.running = False
        self.finished.emit()

    def shutdown(self) -> None:
        if self._process.state() != QProcess.ProcessState.NotRunning:
            self._process.kill()
            self._process.waitForFinished(2000)
