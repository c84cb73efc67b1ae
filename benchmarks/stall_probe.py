"""An event-loop latency probe: a 1 ms timer on the GUI thread, and the gaps between its ticks."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, QTimer


class StallProbe(QObject):
    def __init__(self) -> None:
        super().__init__()
        self._clock = QElapsedTimer()
        self._clock.start()
        self._last = 0
        self.gaps: list[int] = []
        self._timer = QTimer(self)
        self._timer.setInterval(1)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = self._clock.elapsed()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = self._clock.elapsed()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def largest_ms(self) -> int:
        return max(self.gaps, default=0)

    @property
    def p99_ms(self) -> int:
        ordered = sorted(self.gaps)
        return ordered[len(ordered) * 99 // 100] if ordered else 0
