"""About Hearth: what a person wants to know (the version, the engine, this computer's devices
in words, where models and data are), with the full diagnostics behind Show Details."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop import __version__
from desktop.app.diagnostics import device_in_words, engine_build_in_words

if TYPE_CHECKING:
    from desktop.ui.shell.main_window import MainWindow


def about_box(window: MainWindow) -> QMessageBox:
    devices = window.hub.devices
    found = (
        "".join(f"<li>{html.escape(device_in_words(d))}</li>" for d in devices)
        if devices
        else "<li>Still looking (a few seconds after start)</li>"
    )
    box = QMessageBox(window)
    box.setObjectName("aboutBox")
    box.setWindowTitle("About Hearth")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(
        f"<h3>Hearth {__version__}</h3><p>Run open language models on this computer, offline.</p>"
        f"<p><b>Engine</b><br>{html.escape(engine_build_in_words(devices))}</p>"
        f"<p><b>This computer</b></p><ul>{found}</ul>"
        f"<p><b>Models</b><br>{html.escape(str(window.context.models_dir))}<br>"
        f"<b>Chats and settings</b><br>{html.escape(str(window.context.paths.data_dir))}</p>"
    )
    box.setDetailedText(window.diagnostics())  # Show Details…: versions, settings, the log's end
    box.addButton("Copy diagnostics", QMessageBox.ButtonRole.ActionRole).setObjectName("copyDiagnostics")
    box.addButton(QMessageBox.StandardButton.Close)
    return box


def show_about(window: MainWindow) -> None:
    box = about_box(window)
    box.exec()
    clicked = box.clickedButton()
    if clicked is not None and clicked.objectName() == "copyDiagnostics":
        window.copy_diagnostics()
