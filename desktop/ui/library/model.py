"""The item model of the local library."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from desktop.gguf.fit import DEFAULT_CONTEXT, fit_verdict, system_memory_bytes
from desktop.gguf.model_kind import kind_label, kind_tip
from desktop.gguf.speed import MachineSpeed, Verdict, explain
from desktop.library.predicted import predicted_for_model
from desktop.library.scan import LocalModel
from desktop.ui.hub.models import (
    FIT_TEXT,
    fit_colour,
    fit_icon,
    fitted_speed_verdict,
    speed_colour,
    speed_text,
)
from desktop.ui.style.icons import icon
from desktop.ui.style.theme import current
from desktop.ui.widgets.table_model import RecordTableModel, TableColumn
from desktop.units import format_bytes, format_count

SOURCE_NAMES = {
    "hearth": "Hearth",
    "hf-cache": "HF cache",
    "lmstudio": "LM Studio",
    "ollama": "Ollama",
    "gpt4all": "GPT4All",
    "folder": "Folder",
}


def source_label(m: LocalModel) -> str:
    name = SOURCE_NAMES.get(m.source, m.source)
    return f"{name} · a copy is also in {_sources(m.copies_in)}" if m.copies_in else name


def source_tip(m: LocalModel) -> str:
    if not m.copies_in:
        return str(m.path)
    return (
        f"{m.path}\nA file of the same name and size is also in {_sources(m.copies_in)}: the same "
        "model kept twice. Remove one to free its space."
    )


def _sources(sources: tuple[str, ...]) -> str:
    return " and ".join(dict.fromkeys(SOURCE_NAMES.get(s, s) for s in sources))


def _last_used(m: LocalModel) -> str:
    return m.last_used[:10] if m.last_used else "never"


def _tooltip(m: LocalModel) -> str:
    if not m.ok:
        return f"Broken: {m.reason}\n{m.path}"
    return str(m.path)


class LocalModelsModel(RecordTableModel[LocalModel]):
    FIT_COLUMN = 10
    SPEED_COLUMN = 11

    def __init__(self, parent: Any = None) -> None:
        self.available_bytes = system_memory_bytes()  # RAM, plus free VRAM once devices are known
        self.context: int | None = None  # None: each model's default context
        self.machine: MachineSpeed | None = None  # how fast this computer reads weights, once known
        super().__init__(
            [
                TableColumn(
                    "Model",
                    lambda m: m.name,
                    lambda m: m.name.lower(),
                    tooltip=_tooltip,
                ),
                TableColumn("Arch", lambda m: m.architecture or "—"),
                TableColumn(
                    "Params", lambda m: format_count(m.parameters), lambda m: m.parameters or 0, numeric=True
                ),
                TableColumn("Quant", lambda m: m.quant or "—"),
                TableColumn(
                    "Size", lambda m: format_bytes(m.size_bytes), lambda m: m.size_bytes, numeric=True
                ),
                TableColumn("Source", source_label, tooltip=source_tip),
                TableColumn("Repo", lambda m: m.repo_id or "—", tooltip=lambda m: m.repo_id),
                TableColumn(
                    "Context",
                    lambda m: format_count(m.context_length),
                    lambda m: m.context_length or 0,
                    numeric=True,
                ),
                TableColumn(  # a broken file's header tells nothing: no kind is guessed
                    "Kind",
                    lambda m: kind_label(m.has_chat_template) if m.ok else "—",
                    tooltip=lambda m: kind_tip(m.has_chat_template) if m.ok else None,
                ),
                TableColumn("Last used", _last_used, lambda m: m.last_used or ""),
                TableColumn(
                    "Fits",
                    self._fit_text,
                    lambda m: ("fits", "tight", "no").index(self._fit(m) or "no"),
                    tooltip=self._fit_tooltip,
                ),
                TableColumn(
                    "Speed here",
                    self._speed_text,
                    lambda m: self._tps(m) or 0.0,
                    numeric=True,
                    tooltip=self._speed_tip,
                ),
            ],
            parent,
        )

    def set_machine(self, machine: MachineSpeed) -> None:
        self.machine = machine
        last = self.rowCount() - 1
        if last >= 0:
            self.dataChanged.emit(self.index(0, self.SPEED_COLUMN), self.index(last, self.SPEED_COLUMN))

    def _tps(self, m: LocalModel) -> float | None:
        return predicted_for_model(m, self.machine) if self.machine is not None else None

    def predicted_speed(self, m: LocalModel) -> str:
        """ "12 tok/s · usable" on this computer, or "" before the machine's speed is known."""
        return self._speed_text(m)

    def _speed_verdict(self, m: LocalModel) -> Verdict | None:
        return fitted_speed_verdict(self._tps(m), self._fit(m)) if self.machine else None

    def _speed_text(self, m: LocalModel) -> str:
        verdict = self._speed_verdict(m)
        return speed_text(self._tps(m), verdict) if verdict else "—"

    def _speed_tip(self, m: LocalModel) -> str | None:
        tps = self._tps(m)
        if tps is None or self.machine is None:
            return None
        return explain(m.token_reads or m.bytes_per_token or m.size_bytes, self.machine, tps)

    def _fit(self, m: LocalModel) -> str | None:
        if not m.ok:
            return None
        return fit_verdict(m.memory_needed(self.context), self.available_bytes)

    def fit_text(self, m: LocalModel) -> str:
        """Whether ``m`` fits this computer's memory at the chosen context, in words."""
        return self._fit_text(m)

    def _fit_text(self, m: LocalModel) -> str:
        verdict = self._fit(m)
        return FIT_TEXT[verdict] if verdict else "—"

    def _fit_tooltip(self, m: LocalModel) -> str | None:
        if not m.ok:
            return None
        ctx = self.context or (m.shape.default_context() if m.shape else DEFAULT_CONTEXT)
        return f"Needs about {format_bytes(m.memory_needed(self.context))} at {ctx:,} tokens of context"

    def set_available(self, available_bytes: int) -> None:
        self.available_bytes = available_bytes
        self._fits_changed()

    def set_context(self, context: int | None) -> None:
        self.context = context
        self._fits_changed()

    def _fits_changed(self) -> None:
        last = self.rowCount() - 1
        if last >= 0:
            self.dataChanged.emit(self.index(0, self.FIT_COLUMN), self.index(last, self.FIT_COLUMN))

    def extra_data(self, record: LocalModel, column: int, role: int) -> Any:
        speed = self._speed_verdict(record) if column == self.SPEED_COLUMN else None
        if speed and role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor(speed_colour(speed)))
        if not record.ok:
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(current().danger))
            if column == 0 and role == Qt.ItemDataRole.DecorationRole:
                return icon("warning", "danger")
            if column == 0 and role == Qt.ItemDataRole.AccessibleTextRole:
                return f"{record.name}, broken"
            return None
        if column == self.FIT_COLUMN and (verdict := self._fit(record)):
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(fit_colour(verdict)))
            if role == Qt.ItemDataRole.DecorationRole:
                return fit_icon(verdict)
        return None

    def row_of(self, path: str) -> int:
        for row, model in enumerate(self._rows):
            if str(model.path) == path:
                return row
        return -1
