"""The first-run page: one model chosen for this computer and a single Download and chat; the
download's progress, Pause and Cancel on the page; other apps' models and files one click away."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.app.first_run import FirstModel, disk_words
from desktop.resources import resource_path
from desktop.ui.style.theme import current
from desktop.ui.style.tokens import SPACING, TYPE


def _scaled(label: QLabel, factor: float, bold: bool = False) -> QLabel:
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * factor)
    font.setBold(bold)
    label.setFont(font)
    return label


class WelcomePage(QWidget):
    download_requested = Signal()
    pause_requested = Signal()
    cancel_requested = Signal()
    use_found_requested = Signal()
    add_folder_requested = Signal()
    import_requested = Signal()
    skip_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePage")
        self.setAccessibleName("Welcome")
        title = _scaled(QLabel("Welcome to Hearth"), TYPE["display"], bold=True)
        subtitle = QLabel(
            "Chat with an AI model on this computer: private, no account, and offline once it is here."
        )
        subtitle.setWordWrap(True)

        self.card = QFrame()
        self.card.setObjectName("welcomeCard")
        self.model_title = _scaled(QLabel(), TYPE["title"], bold=True)
        self.model_title.setAccessibleName("Suggested model")
        self.model_facts = QLabel()
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.download_button = QPushButton("Download and chat")
        self.download_button.setObjectName("primaryButton")
        self.download_button.setDefault(True)
        self.download_button.setAccessibleName("Download this model and start a chat")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Download progress")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Download status")
        self.pause_button = QPushButton("Pause")
        self.cancel_button = QPushButton("Cancel")
        controls = QHBoxLayout()
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.pause_button)
        controls.addWidget(self.cancel_button)
        card = QVBoxLayout(self.card)
        card.setContentsMargins(SPACING["xl"], SPACING["l"], SPACING["xl"], SPACING["l"])
        card.setSpacing(SPACING["s"])
        card.addWidget(self.model_title)
        card.addWidget(self.model_facts)
        card.addWidget(self.reason)
        card.addSpacing(SPACING["s"])
        card.addWidget(self.download_button, 0, Qt.AlignmentFlag.AlignLeft)
        card.addLayout(controls)
        card.addWidget(self.status)

        self.found = QLabel()
        self.found.setWordWrap(True)
        self.use_found_button = QPushButton("Use them")
        found_row = QHBoxLayout()
        found_row.addWidget(self.found, 1)
        found_row.addWidget(self.use_found_button)
        self.have_files = QLabel("Or use a model file you already have:")
        self.add_folder_button = QPushButton("Add a folder of models…")
        self.import_button = QPushButton("Import a file…")
        self.skip_button = QPushButton("Skip for now")
        self.skip_button.setFlat(True)
        files_row = QHBoxLayout()
        files_row.addWidget(self.add_folder_button)
        files_row.addWidget(self.import_button)
        files_row.addStretch(1)
        files_row.addWidget(self.skip_button)

        column = QVBoxLayout()
        column.setSpacing(SPACING["l"])
        logo = QLabel()
        logo.setPixmap(QIcon(str(resource_path("icons", "hearth.svg"))).pixmap(QSize(64, 64)))
        logo.setAccessibleName("Hearth")
        column.addWidget(logo)
        column.addWidget(title)
        column.addWidget(subtitle)
        column.addSpacing(SPACING["s"])
        column.addWidget(self.card)
        column.addLayout(found_row)
        column.addWidget(self.have_files)
        column.addLayout(files_row)
        column.addStretch(1)
        holder = QWidget()
        holder.setMaximumWidth(720)  # a readable line, centred on a wide window
        holder.setLayout(column)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(SPACING["xxl"], SPACING["xxl"], SPACING["xxl"], SPACING["xl"])
        outer.addStretch(1)
        outer.addWidget(holder, 4)
        outer.addStretch(1)

        self.download_button.clicked.connect(self.download_requested)
        self.pause_button.clicked.connect(self.pause_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.use_found_button.clicked.connect(self.use_found_requested)
        self.add_folder_button.clicked.connect(self.add_folder_requested)
        self.import_button.clicked.connect(self.import_requested)
        self.skip_button.clicked.connect(self.skip_requested)
        self.show_idle()
        self._restyle()

    def _restyle(self) -> None:
        c = current()
        self.card.setStyleSheet(
            f"QFrame#welcomeCard {{ background: {c.surface}; border: 1px solid {c.border}; "
            "border-radius: 12px; }"
            f"QFrame#welcomeCard QLabel {{ background: transparent; border: none; }}"
        )
        self.reason.setStyleSheet(f"color: {c.text_dim};")
        self.model_facts.setStyleSheet(f"color: {c.text_dim};")

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # the theme changed
            self._restyle()
        super().changeEvent(event)

    # What the page shows

    def show_model(self, model: FirstModel | None, offline: bool) -> None:
        if model is None:
            self.model_title.setText("No model fits this computer's memory")
            self.model_facts.setText("")
            self.reason.setText("Add a folder of models or import a file you have.")
            self.download_button.setEnabled(False)
            return
        self.model_title.setText(model.title)
        self.model_facts.setText(model.facts)
        if offline:
            self.reason.setText(
                "You are working offline (Hub ▸ Work offline), so nothing can be downloaded. "
                "Use a model file you already have, below."
            )
        elif not model.enough_disk:
            self.reason.setText(disk_words(model))
        else:
            self.reason.setText(model.reason)
        self.download_button.setEnabled(model.enough_disk and not offline)

    def show_found(self, words: str | None) -> None:
        self.found.setText(words or "")
        self.found.setVisible(bool(words))
        self.use_found_button.setVisible(bool(words))

    def show_idle(self, message: str = "") -> None:
        self.download_button.show()
        for widget in (self.progress, self.pause_button, self.cancel_button):
            widget.hide()
        self.status.setText(message)
        self.status.setVisible(bool(message))

    def show_progress(self, fraction: float | None, words: str, paused: bool) -> None:
        self.download_button.hide()
        for widget in (self.progress, self.pause_button, self.cancel_button, self.status):
            widget.show()
        self.progress.setRange(0, 1000 if fraction is not None else 0)
        self.progress.setValue(int((fraction or 0) * 1000))
        self.pause_button.setText("Resume" if paused else "Pause")
        self.status.setText(words)
