"""The chat's own model picker (as LM Studio's "select a model to load"): every usable library
model with its quant, size, whether it fits and whether it is made for chat; choosing loads it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from desktop.library.scan import LocalModel
from desktop.units import format_bytes

PROMPT = "Select a model to load"


class ModelPicker(QToolButton):
    chosen = Signal(object)  # LocalModel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelPicker")
        self.setAccessibleName("Choose the model for this chat")
        self.setToolTip("Choose the model this chat uses; choosing one loads it")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_ = QMenu(self)
        self.setMenu(self.menu_)
        self.set_current(None)

    def set_current(self, label: str | None) -> None:
        self.setText(f"{label} ▾" if label else f"{PROMPT} ▾")

    def set_models(self, models: list[LocalModel], fit_text: Callable[[LocalModel], str]) -> None:
        self.menu_.clear()
        usable = [m for m in models if m.ok]
        if not usable:
            empty = self.menu_.addAction("No models yet: download one in Discover")
            empty.setEnabled(False)
            return
        for model in sorted(usable, key=lambda m: (m.last_used is None, m.name.lower())):
            kind = "chat" if model.has_chat_template else "text completion"
            action = QAction(
                f"{model.name}  ·  {model.quant or '?'}  ·  {format_bytes(model.size_bytes)}  ·  "
                f"{fit_text(model)}  ·  {kind}",
                self.menu_,
            )
            action.setToolTip(str(model.path))
            action.triggered.connect(lambda _checked=False, m=model: self.chosen.emit(m))
            self.menu_.addAction(action)

    def actions_for_test(self) -> list[QAction]:
        return [a for a in self.menu_.actions() if a.isEnabled()]
