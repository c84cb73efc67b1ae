"""Banners at the top of a window, one for each of Hearth's files that can't be used.

Each says what happened, what is switched off and what to do; a damaged, foreign or newer
file can be moved aside from its banner (renamed, never deleted, after asking), and the part
that needed it then starts afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from desktop.db import StorageError, aside_name, move_aside
from desktop.ui.style.theme import notice_style


def confirm_move_aside(parent: QWidget, problem: StorageError) -> bool:
    box = QMessageBox(parent)
    box.setWindowTitle("Move aside")
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(f"Move {problem.path.name} aside and start afresh?")
    box.setInformativeText(
        f"It is renamed to {aside_name(problem.path).name} in the same folder; nothing is deleted, "
        "and you can give it to someone who can repair it."
    )
    move = box.addButton("Move aside", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is move


class StorageBanner(QFrame):
    def __init__(self, problem: StorageError, consequence: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.problem = problem
        self.setObjectName("storageNotice")
        level = "warning" if problem.kind in ("locked", "full") else "error"
        self.setStyleSheet(
            f"QFrame#storageNotice {{ {notice_style(level)} border-radius: 6px; }}"
            "QFrame#storageNotice QLabel { background: transparent; border: none; color: inherit; }"
        )
        self.label = QLabel(f"{problem.message} {consequence}".strip())
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Storage notice")
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.move_button = QPushButton("Move aside…")
        self.move_button.setToolTip(f"Rename {problem.path.name} (nothing is deleted) and start afresh")
        self.move_button.setVisible(problem.can_move_aside)
        self.dismiss_button = QPushButton("Dismiss")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 6, 8, 6)
        row.addWidget(self.label, 1)
        row.addWidget(self.move_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)


class StorageNotices(QWidget):
    moved = Signal(str)  # what was done, in words, for the status bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 6, 8, 0)
        self._layout.setSpacing(4)
        self.banners: dict[Path, StorageBanner] = {}
        self.hide()

    def show_problem(
        self, problem: StorageError, consequence: str = "", reopen: Callable[[], object] | None = None
    ) -> StorageBanner:
        """One banner a file: a newer problem with the same file replaces the older one.
        ``reopen`` runs once the file is moved aside (the part starts afresh)."""
        self.clear(problem.path)
        banner = StorageBanner(problem, consequence, self)
        banner.move_button.clicked.connect(lambda: self._move_aside(banner, reopen))
        banner.dismiss_button.clicked.connect(lambda: self.clear(problem.path))
        self.banners[problem.path] = banner
        self._layout.addWidget(banner)
        self.show()
        return banner

    def clear(self, path: Path) -> None:
        banner = self.banners.pop(path, None)
        if banner is not None:
            banner.hide()
            banner.deleteLater()
        self.setVisible(bool(self.banners))

    def _move_aside(self, banner: StorageBanner, reopen: Callable[[], object] | None) -> None:
        problem = banner.problem
        if not confirm_move_aside(self.window(), problem):
            return
        try:
            target = move_aside(problem.path)
        except StorageError as exc:
            QMessageBox.warning(self.window(), "Move aside", str(exc))
            return
        self.clear(problem.path)
        self.moved.emit(f"Moved {problem.path.name} aside to {target}; Hearth starts it afresh.")
        if reopen is not None:
            reopen()
