"""The devices llama.cpp sees (GPUs and their free memory), asked of a child process a few
seconds after start-up; told through ``found`` once."""

from __future__ import annotations

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from desktop.engine.devices import Device, parse_devices, probe_command

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
