"""The chat pane: the list of chats, the transcript, the box to write in, Send / Stop."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QPalette, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.chats.chat_settings import ChatSettings
from desktop.chats.store import Branching, Conversation, Message
from desktop.ui.chat.conversation_list import ConversationSidebar
from desktop.ui.chat.model_picker import ModelPicker
from desktop.ui.chat.transcript import COLUMN_WIDTH, ChatTranscript
from desktop.ui.style.icons import icon
from desktop.ui.style.tokens import SPACING
from desktop.ui.widgets.elided_label import ElidedLabel
from desktop.ui.widgets.notices import NoticeStack


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


class CentredRow(QWidget):
    """A row at most ``widest`` wide, centred in the room it is given."""

    def __init__(self, widest: int) -> None:
        super().__init__()
        self._widest = widest

    def resizeEvent(self, event: QResizeEvent) -> None:
        spare = max(0, self.width() - self._widest)
        layout = self.layout()
        if layout is not None:
            layout.setContentsMargins(spare // 2, 0, spare - spare // 2, 0)
        super().resizeEvent(event)


class ChatPane(QWidget):
    send_requested = Signal(str)
    edit_sent = Signal(int, str)  # the edited message's id, the new text
    stop_requested = Signal()
    new_chat_requested = Signal()
    load_last_model_requested = Signal()
    settings_requested = Signal()
    notice_link = Signal(str)  # a link in a notice ("hearth:notebook")
    chat_list_toggled = Signal(bool)  # shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = ElidedLabel("New chat")
        self.title.setObjectName("chatTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        title_font = self.title.font()
        title_font.setPointSizeF(title_font.pointSizeF() * 1.25)
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.model_status = QLabel("No model loaded")
        self.model_status.setObjectName("modelStatus")
        self.model_status.setAccessibleName("Model status")
        self.model_status.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # quiet, in any theme
        # A long status wraps and a long title is shortened at its end, never widening the window.
        self.model_status.setWordWrap(True)
        self.model_picker = ModelPicker()
        self.load_last_button = QPushButton("Load model")
        self.load_last_button.setAccessibleName("Load this chat's model")
        self.load_last_button.hide()
        # A long model name is elided, never widening the window.
        self.load_last_button.setMinimumWidth(60)
        self.sidebar = ConversationSidebar()
        self.new_chat_button = self.sidebar.new_chat_button
        self.list_button = QToolButton()
        self.list_button.setObjectName("chatListButton")
        self.list_button.setText("Chats")
        self.list_button.setIcon(icon("sidebar"))
        self.list_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.list_button.setCheckable(True)
        self.list_button.setChecked(True)
        self.list_button.setAutoRaise(True)
        self.list_button.setAccessibleName("Show the list of chats")
        self.list_button.setToolTip("Show or hide the list of chats (Ctrl+B)")
        self.settings_button = QPushButton(icon("settings"), "Settings…")
        self.settings_button.setToolTip(
            "System prompt, sampling and what happens at the context limit (Ctrl+,)"
        )
        self.settings_button.setAccessibleName("Chat settings")
        self.context_meter = QProgressBar()
        self.context_meter.setObjectName("contextMeter")
        self.context_meter.setAccessibleName("Context in use")
        self.context_meter.setTextVisible(True)
        self.context_meter.setFixedWidth(
            self.fontMetrics().horizontalAdvance("Context 000,000 / 000,000") + 24
        )
        self.context_meter.hide()

        # Two rows: what this chat is, then which model answers it (as LM Studio's model bar).
        header = QVBoxLayout()
        header.setSpacing(SPACING["xs"])
        top = QHBoxLayout()
        top.addWidget(self.list_button)
        top.addWidget(self.title, 1)
        top.addWidget(self.settings_button)
        models = QHBoxLayout()
        models.addWidget(self.model_picker)
        models.addWidget(self.load_last_button)
        models.addWidget(self.model_status, 1)
        header.addLayout(top)
        header.addLayout(models)

        self.notices = NoticeStack()
        self.editing_banner = QLabel()
        self.editing_banner.setObjectName("editingBanner")
        self.editing_banner.setWordWrap(True)
        self.editing_banner.setAccessibleName("Editing")
        self.editing_banner.hide()
        self._editing: int | None = None

        self.transcript = ChatTranscript()

        self.compose = ComposeBox()
        self.compose.setPlaceholderText("Write a message… (Enter sends, Shift+Enter for a new line)")
        self.compose.setAccessibleName("Message")
        self.compose.setTabChangesFocus(True)
        self.compose.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.compose.setFixedHeight(self.compose.fontMetrics().lineSpacing() * 4 + 16)
        self.send_button = QPushButton(icon("send", "on_accent"), "Send")
        self.send_button.setObjectName("primaryButton")
        self.send_button.setDefault(True)
        self.send_button.setAccessibleName("Send")
        self.send_button.setToolTip("Send (Enter)")
        self.stop_button = QPushButton(icon("stop"), "Stop")
        self.stop_button.setAccessibleName("Stop")
        self.stop_button.setToolTip("Stop the reply and keep what was written (Esc)")
        self.stop_button.hide()

        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        # The box lines up with the conversation's column on a wide window.
        compose_row = CentredRow(COLUMN_WIDTH + 2 * SPACING["l"])
        composer = QHBoxLayout(compose_row)
        composer.addWidget(self.compose, 1)
        composer.addLayout(buttons)

        chat = QWidget()
        layout = QVBoxLayout(chat)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(header)
        layout.addWidget(self.notices)
        layout.addWidget(self.transcript, 1)
        layout.addWidget(self.editing_banner)
        layout.addWidget(compose_row)
        meter_row = QHBoxLayout()
        meter_row.addStretch(1)
        meter_row.addWidget(self.context_meter)
        meter_row.addStretch(1)
        layout.addLayout(meter_row)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(chat)
        self.splitter.setStretchFactor(0, 0)  # the list keeps its width; the conversation grows
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(True)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.splitter)

        self.compose.submitted.connect(self._submit)
        self.send_button.clicked.connect(self._submit)
        self.stop_button.clicked.connect(self.stop_requested)
        self.new_chat_button.clicked.connect(self.new_chat_requested)
        self.settings_button.clicked.connect(self.settings_requested)
        self.load_last_button.clicked.connect(self.load_last_model_requested)
        self.list_button.toggled.connect(self._list_toggled)
        self.splitter.splitterMoved.connect(lambda _pos, _index: self._list_dragged())
        self.notices.link_activated.connect(self.notice_link)
        self.transcript.edit_requested.connect(self._begin_edit)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self._escape)

    def show_chat_list(self, shown: bool) -> None:
        """Shows or hides the list of chats; the conversation takes the room."""
        self.list_button.setChecked(shown)

    def _list_toggled(self, shown: bool) -> None:
        self.sidebar.setVisible(shown)
        if shown and self.splitter.sizes()[0] == 0:  # dragged shut earlier: open at a usable width
            total = sum(self.splitter.sizes())
            self.splitter.setSizes([240, max(total - 240, 0)])
        self.chat_list_toggled.emit(shown)

    def _list_dragged(self) -> None:
        if self.splitter.sizes()[0] == 0 and self.list_button.isChecked():
            self.list_button.setChecked(False)  # dragged shut: the button and setting follow

    def _submit(self) -> None:
        text = self.compose.toPlainText()
        if not text.strip() or not self.send_button.isVisible():
            return
        if self._editing is not None:
            message_id = self._editing
            self.cancel_edit()
            self.edit_sent.emit(message_id, text.strip())
        else:
            self.send_requested.emit(text if self._notebook else text.strip())

    def _escape(self) -> None:
        if self._editing is not None:
            self.cancel_edit()
            self.compose.clear()
        else:
            self.stop_requested.emit()

    def _begin_edit(self, message_id: int) -> None:
        message = self.transcript.find_message(message_id)
        if message is None or self.stop_button.isVisible():
            return
        self._editing = message_id
        self.compose.setPlainText(message.content)
        self.compose.setFocus()
        self.editing_banner.setText(
            "Editing an earlier message: sending it starts a new branch from there; the replies "
            "after it stay on the old branch (‹ › under the message switches). Esc cancels."
        )
        self.editing_banner.show()

    def cancel_edit(self) -> None:
        self._editing = None
        self.editing_banner.hide()

    @property
    def editing(self) -> int | None:
        return self._editing

    # Display (called by the window's wiring)

    _notebook = False

    def show_conversation(
        self, conversation: Conversation, messages: list[Message], branching: dict[int, Branching]
    ) -> None:
        self.cancel_edit()
        self.title.setText(conversation.title)
        self._notebook = ChatSettings.from_dict(conversation.settings).mode == "notebook"
        self.compose.setPlaceholderText(
            "Write text for the model to continue… (Enter sends, Shift+Enter for a new line)"
            if self._notebook
            else "Write a message… (Enter sends, Shift+Enter for a new line)"
        )
        self.transcript.show_messages(messages, branching, notebook=self._notebook)

    def show_context(self, used: int, size: int) -> None:
        if size <= 0:
            self.context_meter.hide()
            return
        self.context_meter.setRange(0, size)
        self.context_meter.setValue(min(used, size))
        self.context_meter.setFormat(f"Context {used:,} / {size:,}")
        self.context_meter.setToolTip(
            f"{used:,} of the model's {size:,}-token context is in use by this conversation"
        )
        self.context_meter.show()

    def show_user_message(self, message: Message) -> None:
        self.compose.clear()
        self.transcript.append_message(message)

    def set_busy(self, busy: bool) -> None:
        self.send_button.setVisible(not busy)
        self.stop_button.setVisible(busy)
        if not busy:
            self.compose.setFocus()

    def refuse(self, reason: str) -> None:
        """Chats are off (a history this Hearth can't read): say why, accept nothing."""
        self.show_notice("error", reason)
        for widget in (self.compose, self.send_button, self.settings_button, self.sidebar, self.transcript):
            widget.setEnabled(False)

    def allow(self) -> None:
        """Chats are on again (the history was moved aside and a new one opened)."""
        self.show_notice("info", "")
        for widget in (self.compose, self.send_button, self.settings_button, self.sidebar, self.transcript):
            widget.setEnabled(True)

    def set_model_status(self, text: str) -> None:
        self.model_status.setText(text)

    def offer_model(self, label: str | None) -> None:
        if label:
            text = f"Load {label}"
            self.load_last_button.setToolTip(text)
            self.load_last_button.setText(
                self.load_last_button.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, 180)
            )
            self.load_last_button.show()
        else:
            self.load_last_button.hide()
        # A long model name is elided, never widening the window.
        self.load_last_button.setMinimumWidth(60)

    def show_notice(self, level: str, text: str) -> None:
        """Adds a notice under the others (none hides another); empty ``text`` clears them."""
        self.notices.add(level, text)

    @property
    def notice(self) -> QLabel:
        """The newest notice (an empty, hidden label when none shows)."""
        return self.notices.latest
