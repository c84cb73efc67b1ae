"""Asking before a model goes: delete what Hearth owns; hide another app's model unless asked twice."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget

from desktop.library.scan import LocalModel
from desktop.ui.library_model import SOURCE_NAMES
from desktop.units import format_bytes


def confirm_removal(parent: QWidget, model: LocalModel) -> str | None:
    """ "delete", "hide", or None when the person changes their mind."""
    box = QMessageBox(parent)
    box.setWindowTitle("Remove model")
    box.setIcon(QMessageBox.Icon.Question)
    size = format_bytes(model.size_bytes)
    if model.source == "hearth":
        box.setText(f"Delete {model.name}?")
        box.setInformativeText(f"This deletes the file from Hearth's models folder and frees {size}.")
        action = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return "delete" if box.clickedButton() is action else None
    app = SOURCE_NAMES.get(model.source, model.source)
    box.setText(f"Hide {model.name} from Hearth?")
    box.setInformativeText(f"The file stays in {app}'s folder, where {app} still uses it.")
    also_delete = QCheckBox(f"Also delete the file ({size}); {app} will lose it too")
    box.setCheckBox(also_delete)
    action = box.addButton("Hide", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    if box.clickedButton() is not action:
        return None
    return "delete" if also_delete.isChecked() else "hide"
