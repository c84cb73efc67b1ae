"""The list of conversations beside the chat: newest first, searchable, renameable."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop.chats.message_html import model_label
from desktop.chats.store import Conversation, SearchHit
from desktop.ui.style.icons import icon

Index = QModelIndex | QPersistentModelIndex
ConversationIdRole = Qt.ItemDataRole.UserRole + 1
MessageIdRole = Qt.ItemDataRole.UserRole + 2
RichTextRole = Qt.ItemDataRole.UserRole + 3


def when(stamp: str, now: datetime | None = None) -> str:
    """'14:05' today, 'Mon 14:05' this week, '3 Nov' this year, '3 Nov 2025' before."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return ""
    now = now or datetime.now(UTC).astimezone()
    days = (now.date() - moment.date()).days
    if days == 0:
        return moment.strftime("%H:%M")
    if 0 < days < 7:
        return moment.strftime("%a %H:%M")
    if moment.year == now.year:
        return f"{moment.day} {moment.strftime('%b')}"
    return f"{moment.day} {moment.strftime('%b %Y')}"


def snippet_html(snippet: str) -> str:
    """FTS5's snippet with the matched words (between [ and ]) in bold."""
    escaped = html.escape(snippet)
    return re.sub(r"\[([^\[\]]*)\]", r"<b>\1</b>", escaped)


class ConversationListModel(QAbstractListModel):
    """Either every conversation (newest first) or the hits of a search."""

    rename_requested = Signal(int, str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._conversations: list[Conversation] = []
        self._hits: list[SearchHit] | None = None

    @property
    def searching(self) -> bool:
        return self._hits is not None

    def set_conversations(self, conversations: list[Conversation]) -> None:
        self.beginResetModel()
        self._conversations = conversations
        self._hits = None
        self.endResetModel()

    def set_hits(self, hits: list[SearchHit]) -> None:
        self.beginResetModel()
        self._hits = hits
        self.endResetModel()

    def row_of(self, conversation_id: int) -> int:
        if self._hits is not None:
            return -1
        return next((i for i, c in enumerate(self._conversations) if c.id == conversation_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        return len(self._hits) if self._hits is not None else len(self._conversations)

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        return flags | Qt.ItemFlag.ItemIsEditable if self._hits is None else flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if self._hits is not None:
            hit = self._hits[index.row()]
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{hit.title}\n{hit.snippet}"
            if role == RichTextRole:
                return f"<b>{html.escape(hit.title)}</b><br>{snippet_html(hit.snippet)}"
            if role == ConversationIdRole:
                return hit.conversation_id
            if role == MessageIdRole:
                return hit.message_id
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return f"{hit.title}: {hit.snippet.replace('[', '').replace(']', '')}"
            return None
        conversation = self._conversations[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return conversation.title
        if role == RichTextRole:
            detail = " · ".join(
                p
                for p in (
                    when(conversation.updated),
                    model_label(conversation.model) if conversation.model else "",
                )
                if p
            )
            return f"{html.escape(conversation.title)}<br><small>{html.escape(detail)}</small>"
        if role == Qt.ItemDataRole.ToolTipRole:
            return conversation.title
        if role == ConversationIdRole:
            return conversation.id
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or self._hits is not None or not str(value).strip():
            return False
        self.rename_requested.emit(self._conversations[index.row()].id, str(value))
        return True


class RichTextDelegate(QStyledItemDelegate):
    """Two lines of rich text per row: the title, then the detail or the search snippet."""

    def _document(self, option: QStyleOptionViewItem, index: Index) -> QTextDocument:
        document = QTextDocument()
        document.setDefaultFont(option.font)
        document.setDocumentMargin(6)
        document.setTextWidth(max(40, option.rect.width()))
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        colour = option.palette.color(role).name()
        document.setHtml(f'<div style="color: {colour};">{index.data(RichTextRole) or ""}</div>')
        return document

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else None
        text_less = QStyleOptionViewItem(option)
        text_less.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, text_less, painter, option.widget)
        document = self._document(option, index)
        painter.save()
        painter.translate(option.rect.topLeft())
        painter.setClipRect(QRectF(0, 0, option.rect.width(), option.rect.height()))
        document.drawContents(painter)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        self.initStyleOption(option, index)
        document = self._document(option, index)
        return QSize(int(document.idealWidth()), int(min(document.size().height(), 90)))


class ConversationSidebar(QWidget):
    open_requested = Signal(int, int, str)  # conversation id, message id (0: none), search words
    search_changed = Signal(str)
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)
    duplicate_requested = Signal(int)
    export_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ConversationListModel(self)
        self.new_chat_button = QPushButton(icon("new-chat"), "New chat")
        self.new_chat_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_chat_button.setAccessibleName("New chat")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search chats (Ctrl+F)")
        self.search.setAccessibleName("Search chats")
        self.search.setClearButtonEnabled(True)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setAccessibleName("Conversations")
        self.list.setItemDelegate(RichTextDelegate(self.list))
        self.list.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setUniformItemSizes(False)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.empty = QLabel("No chats match.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 0, 8)
        layout.addWidget(self.new_chat_button)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(lambda: self.search_changed.emit(self.search.text().strip()))
        self.search.textChanged.connect(lambda _text: self._debounce.start())
        self.list.activated.connect(self._open)
        self.list.clicked.connect(self._open)
        self.list.customContextMenuRequested.connect(self._menu)
        self.model.rename_requested.connect(self.rename_requested)

        self.rename_action = QAction("Rename", self, shortcut=QKeySequence("F2"))
        self.duplicate_action = QAction("Duplicate", self)
        self.export_action = QAction("Export…", self)
        self.delete_action = QAction("Delete…", self, shortcut=QKeySequence(QKeySequence.StandardKey.Delete))
        for action in (self.rename_action, self.delete_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.list.addAction(action)
        self.rename_action.triggered.connect(self._rename_current)
        self.duplicate_action.triggered.connect(lambda: self._emit_current(self.duplicate_requested))
        self.export_action.triggered.connect(lambda: self._emit_current(self.export_requested))
        self.delete_action.triggered.connect(lambda: self._emit_current(self.delete_requested))

    def _current_id(self) -> int | None:
        index = self.list.currentIndex()
        value = index.data(ConversationIdRole) if index.isValid() else None
        return int(value) if value is not None else None

    def _emit_current(self, signal: Any) -> None:
        conversation_id = self._current_id()
        if conversation_id is not None:
            signal.emit(conversation_id)

    def _rename_current(self) -> None:
        if not self.model.searching and self.list.currentIndex().isValid():
            self.list.edit(self.list.currentIndex())

    def _open(self, index: QModelIndex) -> None:
        conversation_id = index.data(ConversationIdRole)
        if conversation_id is None:
            return
        message_id = index.data(MessageIdRole) if self.model.searching else None
        self.open_requested.emit(int(conversation_id), int(message_id or 0), self.search.text().strip())

    def _menu(self, point: QPoint) -> None:
        index = self.list.indexAt(point)
        if not index.isValid():
            return
        self.list.setCurrentIndex(index)
        menu = QMenu(self)
        if not self.model.searching:
            menu.addAction(self.rename_action)
        menu.addAction(self.duplicate_action)
        menu.addAction(self.export_action)
        menu.addSeparator()
        menu.addAction(self.delete_action)
        menu.popup(self.list.viewport().mapToGlobal(point))

    # Display

    def show_conversations(self, conversations: list[Conversation], current: int | None) -> None:
        if self.search.text().strip():
            return  # the hits stay until the search is cleared
        self.model.set_conversations(conversations)
        self.empty.hide()
        self.select(current)

    def show_hits(self, hits: list[SearchHit]) -> None:
        self.model.set_hits(hits)
        self.empty.setVisible(not hits)

    def select(self, conversation_id: int | None) -> None:
        row = self.model.row_of(conversation_id) if conversation_id is not None else -1
        if row >= 0:
            self.list.setCurrentIndex(self.model.index(row, 0))

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()
