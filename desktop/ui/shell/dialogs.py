"""Questions the library asks: how to import a file; before a model goes, delete or hide.

Deleting what Hearth owns needs one confirmation; another app's model is hidden unless the
person also ticks the box that deletes its file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget

from desktop.library.importing import ImportMode
from desktop.library.scan import LocalModel
from desktop.ui.library.model import SOURCE_NAMES
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


def ask_import_mode(parent: QWidget, files: list[Path]) -> ImportMode | None:
    """Copy (the safe default), move, or link; None to cancel."""
    box = QMessageBox(parent)
    box.setWindowTitle("Import models")
    box.setIcon(QMessageBox.Icon.Question)
    names = ", ".join(f.name for f in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    box.setText(f"Import {names} into Hearth's models folder?")
    box.setInformativeText(
        "Copy keeps the original where it is. Move takes it into Hearth's folder. "
        "Link leaves the file where it is and lists it in Hearth."
    )
    modes: list[tuple[object, ImportMode]] = [
        (box.addButton(label.capitalize(), QMessageBox.ButtonRole.AcceptRole), label)
        for label in ("copy", "move", "link")
    ]
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return next((mode for button, mode in modes if button is box.clickedButton()), None)


def confirm_chat_deletion(parent: QWidget, title: str) -> bool:
    box = QMessageBox(parent)
    box.setWindowTitle("Delete chat")
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(f"Delete “{title}”?")
    box.setInformativeText("The conversation and all its branches are deleted. This can't be undone.")
    action = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is action
