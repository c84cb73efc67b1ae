"""The transcript view: messages rendered as Markdown, the streaming reply growing at its end.

Long conversations open on their newest messages; earlier ones are rendered as the view
is scrolled up, so opening a chat costs the same however long it is. A streaming reply is
re-rendered at most every ``REFRESH_MS``, only its own part of the document.

The person's turns are bubbles on the right, the model's are named over them; actions are
small icons (``transcript_icons``), links that Tab reaches and Enter follows, each with a
tooltip in words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QEvent, QMargins, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QMouseEvent,
    QPalette,
    QResizeEvent,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import QTextBrowser, QTextEdit, QWidget

from desktop.chats.message_html import MessageHtml, Theme, code_blocks, model_label
from desktop.chats.store import Branching, Message
from desktop.ui.chat.transcript_icons import add_icons
from desktop.ui.style.theme import current

WINDOW = 60  # messages rendered when a chat opens
EARLIER_STEP = 12  # messages added at the top when the view is scrolled up to it
REFRESH_MS = 60
ACTION_ICONS = ("copy", "edit", "regenerate")  # shown under the pointer or focus only
_ACTION_HREF = re.compile(r"hearth:(?:copy|edit|regenerate)/(\d+)$")
COLUMN_WIDTH = 880  # at most this wide, the conversation centred on a wide window (as chat apps do)


def theme_from(palette: QPalette) -> Theme:
    """The transcript's HTML colours: the theme's tokens, or, where a palette that is not the
    theme's reaches a widget (a test, an embedding), colours derived from it."""
    base = palette.color(QPalette.ColorRole.Base)
    tokens = current()
    if base.name() == tokens.surface:
        return Theme(
            text=tokens.text,
            dim=tokens.text_dim,
            accent=tokens.accent,
            code_bg=tokens.code_bg,
            think_bg=tokens.think_bg,
            bubble=tokens.user_bubble,
            dark=tokens.dark,
        )
    dark = base.lightness() < 128
    shade = base.lighter(135) if dark else base.darker(106)
    think = base.lighter(120) if dark else base.darker(103)
    link = palette.color(QPalette.ColorRole.Link)
    return Theme(
        text=palette.color(QPalette.ColorRole.Text).name(),
        dim=palette.color(QPalette.ColorRole.PlaceholderText).name(),
        accent=link.name(),
        code_bg=shade.name(),
        think_bg=think.name(),
        bubble=_mix(base, link, 0.2 if dark else 0.1).name(),
        dark=dark,
    )


def _mix(base: QColor, tint: QColor, amount: float) -> QColor:
    """``base`` with ``amount`` (0 to 1) of ``tint`` in it: a faint wash of the tint."""
    return QColor.fromRgbF(
        base.redF() + (tint.redF() - base.redF()) * amount,
        base.greenF() + (tint.greenF() - base.greenF()) * amount,
        base.blueF() + (tint.blueF() - base.blueF()) * amount,
    )


def _insert_html(cursor: QTextCursor, fragment: str) -> None:
    """``insertHtml`` that keeps the first paragraph's own alignment and spacing. insertHtml
    merges that paragraph into the block at the cursor, whose format (a copy of the paragraph
    before: the right-aligned actions under a bubble) would otherwise win."""
    end = fragment.find("</p>")
    if fragment.startswith("<p") and end > 0:
        first = QTextDocument()
        first.setHtml(fragment[: end + 4])
        cursor.setBlockFormat(first.begin().blockFormat())
    cursor.insertHtml(fragment)


class ChatTranscript(QTextBrowser):
    """Views only display: the controller decides what is said, this decides how it looks."""

    edit_requested = Signal(int)  # message id
    regenerate_requested = Signal(int)
    branch_requested = Signal(int)
    copied = Signal(str)  # what was copied, in words

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setAccessibleName("Conversation")
        self.document().setDocumentMargin(16)
        self.set_model_ready(False)
        self._renderer = MessageHtml(theme_from(self.palette()), icons=True)
        self._icons: dict[str, QImage] = {}
        self._icons_theme: Theme | None = None
        self._blanks: dict[str, QImage] = {}
        self._messages: list[Message] = []
        self._pointed: int | None = None  # the message under the pointer
        self._pointed_block = -1
        self._focused: int | None = None  # the message whose action has the keyboard's focus
        self._add_icons()
        # The model's own name (general.name): the loaded one's, and by file for replies shown.
        self._model_name: str | None = None
        self._model_names: dict[str, str] = {}
        self._branching: dict[int, Branching] = {}
        self._first_shown = 0
        self._expanded: set[int] = set()
        self._notebook = False
        # The streaming reply: where its part of the document starts, and its text so far.
        self._stream: Message | None = None
        self._stream_start = 0
        self._stream_parts: list[str] = []
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self._render_stream)
        self._html_cache: dict[int, str] = {}
        self._prerender = QTimer(self)
        self._prerender.setSingleShot(True)
        self._prerender.setInterval(0)
        self._prerender.timeout.connect(self._prerender_earlier)
        self.anchorClicked.connect(self._on_anchor)
        self.verticalScrollBar().valueChanged.connect(self._maybe_show_earlier)
        self.setAutoFillBackground(True)  # the margins beside the column in the text's colours
        self.setBackgroundRole(QPalette.ColorRole.Base)

    # Display

    def set_model_name(self, name: str | None, path: str | None = None) -> None:
        """The loaded model's own name (its GGUF's ``general.name``), shown over its replies
        instead of the name its file goes by: over the replies that start from now on and,
        given the model's ``path``, over that file's replies already shown. Call it on every
        load; ``None`` (on unload, or a file without a name) goes back to the file's name."""
        self._model_name = name or None
        if path is None:
            return
        if name:
            self._model_names[path] = name
        else:
            self._model_names.pop(path, None)
        shown = [m for m in self._messages[self._first_shown :] if m.model == path and m.role != "user"]
        for message in shown:
            self._html_cache.pop(message.id, None)
        if shown and not self._notebook and self._stream is None:
            self._rerender_keeping_place()

    def know_names(self, names: dict[str, str]) -> None:
        """Every library model's own name by its path, so a chat reads the same whether or not
        its model is loaded; replies of a file whose name changed are shown again."""
        changed = {p for p in set(names) | set(self._model_names) if names.get(p) != self._model_names.get(p)}
        self._model_names = dict(names)
        shown = [m for m in self._messages[self._first_shown :] if m.model in changed and m.role != "user"]
        for message in shown:
            self._html_cache.pop(message.id, None)
        if shown and not self._notebook and self._stream is None:
            self._rerender_keeping_place()

    def _name_for(self, message: Message) -> str | None:
        return self._model_names.get(message.model) if message.model else self._model_name

    def _add_icons(self) -> None:
        """The icons in the theme's colours, into the document (again when the colours change)."""
        theme = self._renderer.theme
        if theme != self._icons_theme:
            self._icons = add_icons(self.document(), theme, self.devicePixelRatioF())
            self._icons_theme = theme
            self._refresh_actions(m.id for m in self._messages)  # drawn before in the old colours

    def _refresh_actions(self, message_ids: Iterable[int]) -> None:
        document = self.document()
        for message_id in message_ids:
            for icon in ACTION_ICONS:
                url = QUrl(f"icon:{icon}/{message_id}")
                document.addResource(
                    QTextDocument.ResourceType.ImageResource, url, self._action_icon(icon, message_id)
                )

    def loadResource(self, kind: int, name: QUrl | str) -> Any:
        # Should the document drop its resources (a clear), the icons are still at hand here.
        url = QUrl(name)
        if url.scheme() == "icon":
            icon, _, of = url.path().partition("/")
            if icon in self._icons:
                return self._action_icon(icon, int(of)) if of.isdigit() else self._icons[icon]
        return super().loadResource(kind, name)

    # A message's actions (copy, edit, regenerate) show where the pointer or the keyboard's focus
    # is, and under the newest message; elsewhere their place is kept blank, so nothing moves.

    def _action_icon(self, icon: str, message_id: int) -> QImage:
        if message_id in (self._pointed, self._focused) or self._is_newest(message_id):
            return self._icons[icon]
        blank = self._blanks.get(icon)
        if blank is None:
            blank = QImage(self._icons[icon].size(), QImage.Format.Format_ARGB32_Premultiplied)
            blank.fill(Qt.GlobalColor.transparent)
            blank.setDevicePixelRatio(self._icons[icon].devicePixelRatio())
            self._blanks[icon] = blank
        return blank

    def _is_newest(self, message_id: int) -> bool:
        return bool(self._messages) and self._messages[-1].id == message_id

    def actions_shown(self, message_id: int) -> bool:
        """Whether ``message_id``'s actions are drawn now (the pointer, the focus, or the newest)."""
        return self._action_icon("copy", message_id) is self._icons["copy"]

    def _show_actions(self, pointed: int | None, focused: int | None) -> None:
        changed = {self._pointed, self._focused, pointed, focused}
        self._pointed, self._focused = pointed, focused
        self._refresh_actions(m for m in changed if m is not None)
        self.viewport().update()

    def _message_at(self, cursor: QTextCursor) -> int | None:
        """The message whose text or actions hold ``cursor``: its actions' line is the first
        one at or after it."""
        block = cursor.block()
        for _ in range(400):  # a long message's blocks, bounded
            if not block.isValid():
                return None
            it = block.begin()
            while not it.atEnd():
                match = _ACTION_HREF.match(it.fragment().charFormat().anchorHref())
                if match:
                    return int(match.group(1))
                it += 1
            block = block.next()
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        block = self.cursorForPosition(event.position().toPoint()).block().blockNumber()
        if block != self._pointed_block:
            self._pointed_block = block
            pointed = self._message_at(self.cursorForPosition(event.position().toPoint()))
            if pointed != self._pointed:
                self._show_actions(pointed, self._focused)

    def leaveEvent(self, event: QEvent) -> None:
        self._pointed_block = -1
        if self._pointed is not None:
            self._show_actions(None, self._focused)
        super().leaveEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:
        moved = super().focusNextPrevChild(next)
        match = _ACTION_HREF.match(self.textCursor().charFormat().anchorHref())  # Tab selects a link
        focused = int(match.group(1)) if match else None
        if focused != self._focused:
            self._show_actions(self._pointed, focused)
        return moved

    def set_model_ready(self, ready: bool) -> None:
        """What an empty conversation says: what to do next, which depends on a model being loaded."""
        self.setPlaceholderText(
            "Write a message below to start."
            if ready
            else "Choose a model above (Select a model to load), then write below."
        )

    def show_messages(
        self,
        messages: list[Message],
        branching: dict[int, Branching] | None = None,
        *,
        notebook: bool = False,
    ) -> None:
        self._refresh.stop()
        self._stream = None
        self._messages = list(messages)
        self._branching = dict(branching or {})
        self._notebook = notebook
        self._renderer = MessageHtml(theme_from(self.palette()), icons=True)
        self._add_icons()
        self._html_cache.clear()
        self._first_shown = max(0, len(self._messages) - WINDOW)
        self.setHtml(self._html(self._messages[self._first_shown :]))
        self._scroll_to_end()
        self._prerender.start()

    def _html(self, messages: list[Message]) -> str:
        """The shown part of the chat: from ``_first_shown`` on, with a line saying what is above."""
        if self._notebook:
            return "<p>" + "".join(self._renderer.notebook_part(m) for m in messages) + "</p>"
        return self._more_line() + self._messages_html(messages)

    def _more_line(self) -> str:
        if not self._first_shown:
            return ""
        return (
            f'<p align="center" style="color: {self._renderer.theme.dim};">'
            f"{self._first_shown} earlier messages — scroll up to see them</p>"
        )

    def _messages_html(self, messages: list[Message]) -> str:
        return "".join(self._message_html(m) for m in messages)

    def _message_html(self, message: Message) -> str:
        cached = self._html_cache.get(message.id)
        if cached is None:
            cached = self._renderer.message(
                message,
                branching=self._branching.get(message.id),
                expanded_thinking=message.id in self._expanded,
                name=self._name_for(message),
            )
            self._html_cache[message.id] = cached
        return cached

    def _prerender_earlier(self) -> None:
        """While idle, the Markdown of the messages above is made ready, so scrolling up only inserts it."""
        if self._stream is None and not self._notebook:
            for message in self._messages[max(0, self._first_shown - EARLIER_STEP) : self._first_shown]:
                self._message_html(message)

    def _maybe_show_earlier(self, value: int) -> None:
        if value > 40 or self._first_shown == 0 or self._stream is not None or self._notebook:
            return
        bar = self.verticalScrollBar()
        layout = self.document().documentLayout()
        from_bottom = int(layout.documentSize().height()) - self.viewport().height() - value
        end = self._first_shown
        self._first_shown = max(0, end - EARLIER_STEP)
        # Only the new messages are rendered, in place of the "earlier messages" line.
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.Start)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.insertHtml(self._more_line() + self._messages_html(self._messages[self._first_shown : end]))
        # Keep what was on screen where it was. The bar's range follows the layout later, so the
        # new range is set here from the laid-out height.
        height = int(layout.documentSize().height())
        bar.setRange(0, max(0, height - self.viewport().height()))
        bar.setValue(bar.maximum() - from_bottom)
        self._prerender.start()

    def _append_html(self, fragment: str) -> None:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        # A table (the person's bubble) starts on a block of its own: an empty one before it
        # would be a blank line that the same chat, reopened, does not have.
        if not self.document().isEmpty() and not fragment.startswith("<table"):
            cursor.insertBlock()
        _insert_html(cursor, fragment)

    def append_message(self, message: Message) -> None:
        self._append_record(message)
        if self._notebook:
            self._append_inline(self._renderer.notebook_part(message))
        else:
            self._append_html(
                self._renderer.message(
                    message, branching=self._branching.get(message.id), name=self._name_for(message)
                )
            )
        self._scroll_to_end()

    def _append_record(self, message: Message) -> None:
        """The newest message shows its actions; the one before it no longer does."""
        before = self._messages[-1].id if self._messages else None
        self._messages.append(message)
        if before is not None:
            self._refresh_actions([before])

    def _append_inline(self, fragment: str) -> None:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertHtml(fragment)

    def begin_reply(self, message: Message) -> None:
        """``message`` is the reply's record, empty for now."""
        self._stream = message
        self._stream_parts = []
        if self._model_name and message.model:
            self._model_names[message.model] = self._model_name
        if not self._notebook:
            self._append_html(self._renderer.header(message, self._name_for(message)))
            cursor = QTextCursor(self.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertBlock(QTextBlockFormat())
        self._stream_start = self.document().characterCount() - 1
        self._scroll_to_end()

    def append_reply(self, text: str) -> None:
        if self._stream is None:
            return
        self._stream_parts.append(text)
        if not self._refresh.isActive():
            self._refresh.start()

    @property
    def streamed_text(self) -> str:
        return "".join(self._stream_parts)

    def _replace_stream(self, fragment: str) -> None:
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._stream_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        _insert_html(cursor, fragment)
        if at_end:
            self._scroll_to_end()

    def _render_stream(self) -> None:
        message = self._stream
        if message is None:
            return
        text = self.streamed_text
        if self._notebook:
            self._replace_stream(self._renderer.notebook_part(replace(message, content=text)))
        else:
            self._replace_stream(
                self._renderer.reply_body(text, message.id, expanded_thinking=message.id in self._expanded)
            )

    def end_reply(self, message: Message | None, branching: dict[int, Branching] | None = None) -> None:
        self._refresh.stop()
        if message is None or self._stream is None:
            self._stream = None
            return
        if branching is not None:
            self._branching = dict(branching)
            self._html_cache.clear()
        self._append_record(message)
        if self._notebook:
            self._replace_stream(self._renderer.notebook_part(message))
        else:
            self._replace_stream(
                self._renderer.reply_body(
                    message.content, message.id, expanded_thinking=message.id in self._expanded
                )
                + self._renderer.footer(message, self._branching.get(message.id), self._name_for(message))
            )
        self._stream = None

    def _scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    # Actions from links

    def find_message(self, message_id: int) -> Message | None:
        return next((m for m in reversed(self._messages) if m.id == message_id), None)

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() != "hearth":
            return
        action, _, rest = url.path().partition("/")
        args = [int(a) for a in rest.split("/") if a.isdigit()]
        if not args:
            return
        if action == "copy":
            message = self.find_message(args[0])
            if message is not None:
                QGuiApplication.clipboard().setText(message.content)
                self.copied.emit("Message copied")
        elif action == "copy-code" and len(args) == 2:
            message = self.find_message(args[0])
            text = self.streamed_text if message is None and self._stream else None
            blocks = code_blocks(message.content if message else text or "")
            if args[1] < len(blocks):
                QGuiApplication.clipboard().setText(blocks[args[1]])
                self.copied.emit("Code copied")
        elif action == "think":
            self._expanded ^= {args[0]}
            self._html_cache.pop(args[0], None)
            self._rerender_keeping_place()
        elif action == "edit":
            self.edit_requested.emit(args[0])
        elif action == "regenerate":
            self.regenerate_requested.emit(args[0])
        elif action == "branch":
            self.branch_requested.emit(args[0])

    def _rerender_keeping_place(self) -> None:
        if self._stream is not None:
            self._render_stream()
            return
        bar = self.verticalScrollBar()
        value = bar.value()
        self.setHtml(self._html(self._messages[self._first_shown :]))
        bar.setValue(min(value, bar.maximum()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        # Called for the viewport's resizes too: the margins follow the widget's own width, and
        # are set only when they change (setting them resizes the viewport).
        spare = max(0, self.width() - self.verticalScrollBar().sizeHint().width() - COLUMN_WIDTH)
        margins = QMargins(spare // 2, 0, spare - spare // 2, 0)
        if margins != self.viewportMargins():
            self.setViewportMargins(margins)
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        # The system switched between light and dark: redraw in the new colours.
        if event.type() == QEvent.Type.PaletteChange:
            self._renderer = MessageHtml(theme_from(self.palette()), icons=True)
            self._add_icons()
            self._html_cache.clear()
            if self._messages:
                self._rerender_keeping_place()
        super().changeEvent(event)

    # Search hits

    def highlight(self, words: list[str], message_id: int | None = None) -> int:
        """Marks every occurrence of ``words`` and scrolls to ``message_id``; returns the count."""
        if message_id is not None:
            index = next((i for i, m in enumerate(self._messages) if m.id == message_id), None)
            if index is not None and index < self._first_shown:
                self._first_shown = max(0, index - 5)
                self.setHtml(self._html(self._messages[self._first_shown :]))
        selections: list[QTextEdit.ExtraSelection] = []
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(current().highlight_bg))
        fmt.setForeground(QColor(current().on_highlight))
        document = self.document()
        for word in words:
            cursor = document.find(word)
            while not cursor.isNull():
                selection = QTextEdit.ExtraSelection()
                selection.cursor = cursor
                selection.format = fmt
                selections.append(selection)
                cursor = document.find(word, cursor)
        self.setExtraSelections(selections)
        if message_id is not None:
            self.scrollToAnchor(f"m{message_id}")
        return len(selections)

    def plain_text(self) -> str:
        """The words shown, without the icons' placeholders."""
        return self.toPlainText().replace("\ufffc", "")


__all__ = ["ChatTranscript", "model_label", "theme_from"]
