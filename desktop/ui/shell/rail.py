"""The navigation rail: the app's parts (Chat, Discover, My models, Compare, Server) as full pages.

A slim column of buttons at the window's left, as LM Studio's and Jan's, each with Ctrl+1…
for the keyboard; a page made on first use (Compare brings its charts) is added when chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.style.icons import icon
from desktop.ui.style.tokens import SPACING, TYPE


@dataclass(frozen=True)
class Section:
    key: str  # "chat", "discover", "models", "compare", "server"
    label: str
    icon: str  # a name in resources/icons
    tip: str


SECTIONS = (
    Section("chat", "Chat", "chat", "Your conversations with a model"),
    Section("discover", "Discover", "discover", "Find models on the Hugging Face Hub and download them"),
    Section("models", "My models", "models", "The models on this computer: load, verify, remove"),
    Section("compare", "Compare", "compare", "Side by side, blind arena, speed and quality of your models"),
    Section("server", "Server", "server", "Your models for other programs, through a local API"),
)

RAIL_WIDTH = 84


def titled_page(title: str, subtitle: str, body: QWidget) -> QWidget:
    """A page with its name at the top, as the peers' pages have: where am I, what is this for."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(SPACING["l"], SPACING["m"], SPACING["l"], SPACING["s"])
    layout.setSpacing(SPACING["xs"])
    heading = QLabel(title)
    heading.setObjectName("pageTitle")
    font = heading.font()
    font.setPointSizeF(font.pointSizeF() * TYPE["display"])
    font.setBold(True)
    heading.setFont(font)
    heading.setAccessibleName(f"{title} page")
    note = QLabel(subtitle)
    note.setObjectName("pageSubtitle")
    note.setWordWrap(True)
    layout.addWidget(heading)
    layout.addWidget(note)
    layout.addSpacing(SPACING["xs"])
    layout.addWidget(body, 1)
    return page


class Navigation(QWidget):
    """The rail and the stack of pages it shows; ``shown(key)`` after each change."""

    shown = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rail = QWidget()
        self.rail.setObjectName("navigationRail")
        self.rail.setAccessibleName("Navigation")
        self.rail.setFixedWidth(RAIL_WIDTH)
        self.rail.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.stack = QStackedWidget()
        self.buttons: dict[str, QToolButton] = {}
        self.section_actions: dict[str, QAction] = {}
        self._pages: dict[str, QWidget] = {}
        self._makers: dict[str, Callable[[], QWidget | None]] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        column = QVBoxLayout(self.rail)
        column.setContentsMargins(SPACING["xs"], SPACING["m"], SPACING["xs"], SPACING["m"])
        column.setSpacing(SPACING["xs"])
        for number, section in enumerate(SECTIONS, start=1):
            button = QToolButton()
            button.setObjectName("railButton")
            button.setText(section.label)
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click leaves the focus where work is
            button.setAutoRaise(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setIcon(icon(section.icon))
            button.setIconSize(QSize(22, 22))
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setAccessibleName(section.label)
            button.setToolTip(f"{section.tip} (Ctrl+{number})")
            button.clicked.connect(lambda _checked=False, key=section.key: self.show_key(key))
            self._group.addButton(button)
            column.addWidget(button)
            self.buttons[section.key] = button
            action = QAction(section.label, self, shortcut=QKeySequence(f"Ctrl+{number}"))
            action.setToolTip(section.tip)
            action.triggered.connect(lambda _checked=False, key=section.key: self.show_key(key))
            self.section_actions[section.key] = action
        column.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.rail)
        row.addWidget(self.stack, 1)

    def add(self, key: str, page: QWidget) -> None:
        self._pages[key] = page
        self.stack.addWidget(page)

    def add_later(self, key: str, make: Callable[[], QWidget | None]) -> None:
        """A page made when first chosen; ``make`` returns None when it can't be (it says why)."""
        self._makers[key] = make

    def page(self, key: str) -> QWidget | None:
        return self._pages.get(key)

    def current_key(self) -> str:
        page = self.stack.currentWidget()
        return next((k for k, p in self._pages.items() if p is page), "chat")

    def show_key(self, key: str) -> bool:
        """Shows the page for ``key``; False (and the rail unchanged) when it can't be made."""
        if key not in self._pages and key in self._makers:
            made = self._makers[key]()
            if made is None:
                self.buttons[self.current_key()].setChecked(True)
                return False
            self.add(key, made)
        page = self._pages.get(key)
        if page is None:
            return False
        self.stack.setCurrentWidget(page)
        self.buttons[key].setChecked(True)
        self.shown.emit(key)
        return True

    def show_page(self, widget: QWidget) -> None:
        """Shows the page holding ``widget`` (a page's body or the page itself)."""
        key = next((k for k, p in self._pages.items() if p is widget or p.isAncestorOf(widget)), None)
        if key is not None:
            self.show_key(key)
