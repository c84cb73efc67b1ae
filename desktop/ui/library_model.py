"""The item model of the local library."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from desktop.library.scan import LocalModel
from desktop.ui.table_model import Column, RecordTableModel
from desktop.units import format_bytes, format_count

SOURCE_NAMES = {
    "hearth": "Hearth",
    "hf-cache": "HF cache",
    "lmstudio": "LM Studio",
    "ollama": "Ollama",
    "gpt4all": "GPT4All",
    "folder": "Folder",
}


def _tooltip(m: LocalModel) -> str:
    if not m.ok:
        return f"Broken: {m.reason}\n{m.path}"
    return str(m.path)


class LocalModelsModel(RecordTableModel[LocalModel]):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(
            [
                Column(
                    "Model",
                    lambda m: m.name if m.ok else f"⚠ {m.name}",
                    lambda m: m.name.lower(),
                    tooltip=_tooltip,
                ),
                Column("Arch", lambda m: m.architecture or "—"),
                Column(
                    "Params", lambda m: format_count(m.parameters), lambda m: m.parameters or 0, numeric=True
                ),
                Column("Quant", lambda m: m.quant or "—"),
                Column("Size", lambda m: format_bytes(m.size_bytes), lambda m: m.size_bytes, numeric=True),
                Column("Source", lambda m: SOURCE_NAMES.get(m.source, m.source)),
                Column(
                    "Context",
                    lambda m: format_count(m.context_length),
                    lambda m: m.context_length or 0,
                    numeric=True,
                ),
            ],
            parent,
        )

    def extra_data(self, record: LocalModel, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and not record.ok:
            return QBrush(QColor("#c0392b"))
        return None

    def row_of(self, path: str) -> int:
        for row, model in enumerate(self._rows):
            if str(model.path) == path:
                return row
        return -1
