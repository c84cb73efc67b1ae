"""Serving with the window closed: a tray icon to bring the window back or stop and quit."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget


def tray_icon(
    window: QWidget, *, on_show: Callable[[], None], on_quit: Callable[[], None]
) -> QSystemTrayIcon:
    tray = QSystemTrayIcon(QApplication.windowIcon(), window)
    tray.setToolTip("Hearth: serving your models to other programs")
    menu = QMenu(window)
    show = QAction("Show Hearth", menu)
    show.triggered.connect(on_show)
    quit_ = QAction("Stop the server and quit", menu)
    quit_.triggered.connect(on_quit)
    menu.addAction(show)
    menu.addSeparator()
    menu.addAction(quit_)
    tray.setContextMenu(menu)
    tray.activated.connect(
        lambda reason: on_show() if reason == QSystemTrayIcon.ActivationReason.Trigger else None
    )
    return tray
