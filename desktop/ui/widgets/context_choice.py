"""The one control for choosing the context size that memory and fit are worked out for."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

CONTEXT_CHOICES = (2048, 4096, 8192, 16384, 32768, 65536, 131072)


def context_combo(accessible_name: str) -> QComboBox:
    """Its data is the context in tokens, or None for each model's default."""
    combo = QComboBox()
    combo.setAccessibleName(accessible_name)
    combo.setToolTip("Memory and fit are worked out for this many tokens of context")
    combo.addItem("Default context", None)
    for tokens in CONTEXT_CHOICES:
        combo.addItem(f"{tokens // 1024}K context", tokens)
    return combo
