"""Starting the GUI."""

from __future__ import annotations

import gc
import logging
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import qVersion
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from desktop import __version__
from desktop.paths import hearth_paths
from desktop.resources import resource_path
from desktop.settings import load_settings
from desktop.ui.shell.context import AppContext
from desktop.ui.shell.main_window import MainWindow
from desktop.ui.style.theme import apply_theme

if TYPE_CHECKING:
    from desktop.app.server_config import ServerLauncher

log = logging.getLogger(__name__)


def app_icon() -> QIcon:
    return QIcon(str(resource_path("icons", "hearth.svg")))


def create_application(argv: Sequence[str]) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0], *argv])
    app.setApplicationName("Hearth")
    app.setApplicationDisplayName("Hearth")
    app.setOrganizationName("Hearth")
    app.setDesktopFileName("hearth")
    app.setWindowIcon(app_icon())
    # Fusion follows the system's light or dark colour scheme and draws the same everywhere.
    app.setStyle("Fusion")
    # Worker threads (Hub requests, JSON parsing) share the interpreter lock with the window:
    # a shorter switch interval (default 5 ms) hands it back to the GUI thread sooner.
    sys.setswitchinterval(0.001)
    return app


def create_main_window(server_launcher: ServerLauncher | None = None) -> MainWindow:
    paths = hearth_paths()
    settings = load_settings(paths)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        apply_theme(app, settings.theme)  # before the window: it is built in its colours
    window = MainWindow(AppContext(paths, settings, server_launcher))
    # Everything built at start-up lives as long as the app: moved out of the collector's
    # reach, a full collection (which a worker thread can trigger at any time, holding the
    # interpreter lock) no longer walks it and stalls the window.
    gc.collect()
    gc.freeze()
    return window


def run_gui(argv: Sequence[str], server_launcher: ServerLauncher | None = None) -> int:
    app = create_application(argv)
    # Ctrl+C in the terminal that started the app ends it (Qt would otherwise swallow it);
    # the engine and download processes notice their parent is gone and exit too.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    window = create_main_window(server_launcher)
    gc.enable()  # off while the modules loaded and the window was built (see desktop.__main__)
    window.show()
    log.info("main window shown (Hearth %s, Qt %s)", __version__, qVersion())
    return app.exec()
