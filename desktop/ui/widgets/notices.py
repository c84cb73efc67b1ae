"""Notices that stack: a new one is added under the others, so none hides another; each can
be dismissed, and a new model or chat clears them."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from desktop.ui.style.icons import icon
from desktop.ui.style.theme import notice_style

MOST = 4  # more than this and the oldest goes: a column of notices is no longer read
# The colour token of a notice's text, which its close button is drawn in too.
TEXT_TOKEN = {"warning": "on_warning", "error": "on_danger"}


class Notice(QWidget):
    def __init__(self, level: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level = level
        self.setObjectName("chatNotice")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.label = QLabel(text)
        self.label.setObjectName("chatNoticeText")
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Notice")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.close_button = QToolButton()
        # a token, not a colour: the icon takes the new theme's colour when the theme changes
        self.close_button.setIcon(icon("close", TEXT_TOKEN.get(level, "on_info")))
        self.close_button.setIconSize(QSize(14, 14))
        self.close_button.setAutoRaise(True)
        self.close_button.setAccessibleName("Dismiss this notice")
        self.close_button.setToolTip("Dismiss")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.restyle()

    def restyle(self) -> None:
        self.setStyleSheet(
            f"QWidget#chatNotice {{ {notice_style(self.level)} border-radius: 6px; }}"
            "QLabel#chatNoticeText, QToolButton { background: transparent; border: none; color: inherit; }"
        )


class NoticeStack(QWidget):
    link_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Notices")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.notices: list[Notice] = []
        self._nothing = QLabel()  # what ``latest`` gives when no notice shows
        self._nothing.hide()
        self.hide()

    @property
    def latest(self) -> QLabel:
        return self.notices[-1].label if self.notices else self._nothing

    def texts(self) -> list[str]:
        return [n.label.text() for n in self.notices]

    def add(self, level: str, text: str) -> None:
        """``text`` empty: every notice goes (a new model, a new chat)."""
        if not text:
            self.clear()
            return
        if text in self.texts():
            return
        notice = Notice(level, text, self)
        notice.label.linkActivated.connect(self.link_activated)
        notice.close_button.clicked.connect(lambda: self._remove(notice))
        self.notices.append(notice)
        self._layout.addWidget(notice)
        while len(self.notices) > MOST:
            self._remove(self.notices[0])
        self.show()

    def _remove(self, notice: Notice) -> None:
        if notice in self.notices:
            self.notices.remove(notice)
            notice.hide()
            notice.deleteLater()
        self.setVisible(bool(self.notices))

    def clear(self) -> None:
        for notice in list(self.notices):
            self._remove(notice)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # the theme changed
            for notice in self.notices:
                notice.restyle()
        super().changeEvent(event)
