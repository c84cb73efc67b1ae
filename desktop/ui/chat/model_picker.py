"""The chat's own model picker (as LM Studio's "select a model to load"): every usable library
model with its quant, size, whether it fits and whether it is made for chat; choosing loads it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import QMenu, QSizePolicy, QToolButton, QWidget

from desktop.gguf.model_kind import kind_label, kind_tip
from desktop.library.scan import LocalModel
from desktop.units import format_bytes

PROMPT = "Select a model to load"
WIDEST = 340  # the button never pushes the chat's header wider than the window


class ModelPicker(QToolButton):
    chosen = Signal(object)  # LocalModel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelPicker")
        self.setAccessibleName("Choose the model for this chat")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(120)
        self.setMaximumWidth(WIDEST)
        self.menu_ = QMenu(self)
        self.menu_.setToolTipsVisible(True)
        self.setMenu(self.menu_)
        self.menu_.aboutToShow.connect(self._fill)
        self._models: Callable[[], list[LocalModel]] = list
        self._fit_text: Callable[[LocalModel], str] = lambda _m: ""
        self._label = PROMPT
        self.set_current(None)

    def set_current(self, label: str | None) -> None:
        """The loaded model's name, or the prompt to choose one."""
        self._label = label or PROMPT
        self.setToolTip(
            f"{label}: choose another model for this chat (choosing loads it)"
            if label
            else "Choose the model this chat uses; choosing one loads it"
        )
        self._elide()

    def label(self) -> str:
        return self._label

    def set_source(
        self, models: Callable[[], list[LocalModel]], fit_text: Callable[[LocalModel], str]
    ) -> None:
        """Where the menu's models come from; it is filled as it opens, so sizes and fit are current."""
        self._models = models
        self._fit_text = fit_text

    def _fill(self) -> None:
        self.menu_.clear()
        fit_text = self._fit_text
        usable = [m for m in self._models() if m.ok]
        if not usable:
            empty = self.menu_.addAction("No models yet: download one in Discover")
            empty.setEnabled(False)
            return
        # The ones used lately first: the one wanted is most often among them.
        for model in sorted(usable, key=lambda m: (m.last_used is None, m.name.lower())):
            kind = kind_label(model.has_chat_template)
            action = QAction(
                f"{model.name}  ·  {model.quant or '?'}  ·  {format_bytes(model.size_bytes)}  ·  "
                f"{fit_text(model)}  ·  {kind}",
                self.menu_,
            )
            action.setToolTip(f"{model.path}\n{kind_tip(model.has_chat_template)}")
            action.triggered.connect(lambda _checked=False, m=model: self.chosen.emit(m))
            self.menu_.addAction(action)

    def choices(self) -> list[QAction]:
        """The models offered (a test reads them as a person reads the menu)."""
        self._fill()
        return [a for a in self.menu_.actions() if a.isEnabled()]

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = max(self.width(), self.minimumWidth()) - 36  # the menu arrow and padding
        self.setText(self.fontMetrics().elidedText(self._label, Qt.TextElideMode.ElideRight, room))

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        hint.setWidth(min(WIDEST, self.fontMetrics().horizontalAdvance(self._label) + 44))
        return hint
