"""The chat pane: the transcript, the box to write in, and Send / Stop."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.chats.store import Conversation, Message
from desktop.ui.chat_transcript import ChatTranscript


class ComposeBox(QPlainTextEdit):
    """Enter sends; Shift+Enter starts a new line."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.submitted.emit()
            return
        super().keyPressEvent(event)


_NOTICE_STYLE = {
    "info": "",
    "warning": "background: #fff4d6; color: #5c4400; border: 1px solid #f0d48a;",
    "error": "background: #fde2e1; color: #7a1512; border: 1px solid #f1a9a5;",
}


class ChatPane(QWidget):
    send_requested = Signal(str)
    stop_requested = Signal()
    new_chat_requested = Signal()
    load_last_model_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("New chat")
        self.title.setObjectName("chatTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        title_font = self.title.font()
        title_font.setPointSizeF(title_font.pointSizeF() * 1.25)
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.model_status = QLabel("No model loaded")
        self.model_status.setObjectName("modelStatus")
        self.model_status.setAccessibleName("Model status")
        # Long titles and statuses wrap rather than forcing the window wider.
        self.model_status.setWordWrap(True)
        self.title.setWordWrap(True)
        self.load_last_button = QPushButton("Load model")
        self.load_last_button.setAccessibleName("Load this chat's model")
        self.load_last_button.hide()
        self.new_chat_button = QPushButton("New chat")
        self.new_chat_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_chat_button.setAccessibleName("New chat")

        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.model_status)
        header.addLayout(titles, 1)
        header.addWidget(self.load_last_button)
        header.addWidget(self.new_chat_button)

        self.notice = QLabel()
        self.notice.setObjectName("chatNotice")
        self.notice.setWordWrap(True)
        self.notice.setAccessibleName("Notice")
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()

        self.transcript = ChatTranscript()

        self.compose = ComposeBox()
        self.compose.setPlaceholderText("Write a message… (Enter sends, Shift+Enter for a new line)")
        self.compose.setAccessibleName("Message")
        self.compose.setTabChangesFocus(True)
        self.compose.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.compose.setFixedHeight(self.compose.fontMetrics().lineSpacing() * 4 + 16)
        self.send_button = QPushButton("Send")
        self.send_button.setDefault(True)
        self.send_button.setAccessibleName("Send")
        self.send_button.setToolTip("Send (Enter)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setAccessibleName("Stop")
        self.stop_button.setToolTip("Stop the reply and keep what was written (Esc)")
        self.stop_button.hide()

        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        composer = QHBoxLayout()
        composer.addWidget(self.compose, 1)
        composer.addLayout(buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(header)
        layout.addWidget(self.notice)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(composer)

        self.compose.submitted.connect(self._submit)
        self.send_button.clicked.connect(self._submit)
        self.stop_button.clicked.connect(self.stop_requested)
        self.new_chat_button.clicked.connect(self.new_chat_requested)
        self.load_last_button.clicked.connect(self.load_last_model_requested)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.stop_requested.emit)

    def _submit(self) -> None:
        text = self.compose.toPlainText().strip()
        if text and self.send_button.isEnabled():
            self.send_requested.emit(text)

    # Display (called by the window's wiring)

    def show_conversation(self, conversation: Conversation, messages: list[Message]) -> None:
        self.title.setText(conversation.title)
        self.transcript.show_messages(messages)

    def show_user_message(self, message: Message) -> None:
        self.compose.clear()
        self.transcript.append_message(message)

    def set_busy(self, busy: bool) -> None:
        self.send_button.setVisible(not busy)
        self.stop_button.setVisible(busy)
        if not busy:
            self.compose.setFocus()

    def set_model_status(self, text: str) -> None:
        self.model_status.setText(text)

    def offer_model(self, label: str | None) -> None:
        if label:
            self.load_last_button.setText(f"Load {label}")
            self.load_last_button.show()
        else:
            self.load_last_button.hide()

    def show_notice(self, level: str, text: str) -> None:
        self.notice.setText(text)
        self.notice.setStyleSheet(
            f"QLabel#chatNotice {{ {_NOTICE_STYLE.get(level, '')} padding: 6px; border-radius: 4px; }}"
        )
        self.notice.setVisible(bool(text))
