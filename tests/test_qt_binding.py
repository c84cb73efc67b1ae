"""The Qt binding itself: a release that corrupts reference counts would crash a long chat."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QScrollBar


def test_void_methods_keep_none_alive(qapp) -> None:
    # PySide6 6.12.0 dropped a reference to None on every call of a method returning void;
    # on Python 3.11 (None not immortal) the app died after some ten thousand of them,
    # i.e. in the middle of a long streamed reply. pyproject.toml keeps that release out.
    timer = QTimer()
    bar = QScrollBar()
    before = sys.getrefcount(None)
    for _ in range(1000):  # few enough that a broken binding fails here rather than aborting
        timer.start(1000)
        timer.stop()
        bar.setValue(0)
    assert sys.getrefcount(None) - before > -100
