"""The transcript view: messages as a document, with the streaming reply growing at its end."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor, QFont, QPalette, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextBrowser, QWidget

from desktop.chats.store import Message
from desktop.ui.chat_controller import model_label


def stats_line(stats: dict[str, Any] | None) -> str:
    if not stats:
        return ""
    if stats.get("stop_reason") == "error":
        return "Cut short: the engine stopped. What was written is kept."
    parts = [f"{stats.get('completion_tokens', 0)} tokens"]
    ttft = stats.get("ttft_ms")
    if ttft:
        parts.append(
            f"{ttft:.0f} ms to first token" if ttft < 1000 else f"{ttft / 1000:.1f} s to first token"
        )
    if stats.get("gen_tps"):
        parts.append(f"{stats['gen_tps']:.1f} tokens/s")
    if stats.get("model"):
        parts.append(str(stats["model"]))
    if stats.get("stop_reason") == "cancelled":
        parts.append("stopped")
    elif stats.get("stop_reason") == "length":
        parts.append("reached the length limit")
    return " · ".join(parts)


class ChatTranscript(QTextBrowser):
    """Views only display: the controller decides what is said, this decides how it looks."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(False)
        self.setAccessibleName("Conversation")
        self.document().setDocumentMargin(16)
        self.setPlaceholderText("Load a model from My models, then write below.")
        self._reply_cursor: QTextCursor | None = None

    # Formats, from the palette so light and dark themes both read well

    def _colour(self, role: QPalette.ColorRole) -> QColor:
        return self.palette().color(role)

    def _header_format(self, assistant: bool) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold)
        fmt.setForeground(
            self._colour(QPalette.ColorRole.Highlight if assistant else QPalette.ColorRole.Text)
        )
        return fmt

    def _body_format(self) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Normal)
        fmt.setForeground(self._colour(QPalette.ColorRole.Text))
        return fmt

    def _stats_format(self) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setForeground(self._colour(QPalette.ColorRole.PlaceholderText))
        fmt.setFontPointSize(max(7.0, self.font().pointSizeF() * 0.85))
        return fmt

    @staticmethod
    def _block(top: int = 2) -> QTextBlockFormat:
        block = QTextBlockFormat()
        block.setTopMargin(top)
        block.setBottomMargin(2)
        block.setLineHeight(130, 1)  # proportional line height, in percent
        return block

    def _end(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _paragraph(self, text: str, fmt: QTextCharFormat, top: int = 2) -> QTextCursor:
        cursor = self._end()
        if self.document().isEmpty():
            cursor.setBlockFormat(self._block(0))
            cursor.setBlockCharFormat(fmt)
        else:
            cursor.insertBlock(self._block(top), fmt)
        cursor.setCharFormat(fmt)
        cursor.insertText(text, fmt)
        return cursor

    # What the window calls

    def show_messages(self, messages: list[Message]) -> None:
        self.clear()
        self._reply_cursor = None
        for message in messages:
            self.append_message(message)
        self._scroll_to_end()

    def append_message(self, message: Message) -> None:
        if message.role == "user":
            self._paragraph("You", self._header_format(False), top=16)
            self._paragraph(message.content, self._body_format())
        elif message.role == "assistant":
            self._paragraph(model_label(message.model), self._header_format(True), top=16)
            self._paragraph(message.content, self._body_format())
            stats = message.stats or (None if message.complete else {"stop_reason": "error"})
            if stats:
                self._paragraph(stats_line(stats), self._stats_format(), top=4)
        self._scroll_to_end()

    def begin_reply(self, who: str) -> None:
        self._paragraph(who, self._header_format(True), top=16)
        self._reply_cursor = self._paragraph("", self._body_format())

    def append_reply(self, text: str) -> None:
        if self._reply_cursor is None:
            return
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        self._reply_cursor.insertText(text, self._body_format())
        if at_end:
            self._scroll_to_end()

    def end_reply(self, message: Message | None) -> None:
        self._reply_cursor = None
        if message is not None and message.stats:
            self._paragraph(stats_line(message.stats), self._stats_format(), top=4)
        self._scroll_to_end()

    def _scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def plain_text(self) -> str:
        return self.toPlainText()
