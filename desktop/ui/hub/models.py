"""Item models for the Hub browser: search results and a repository's quant choices."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon

from desktop.gguf.model_kind import kind_label, kind_tip
from desktop.gguf.speed import MachineSpeed, Verdict, explain, speed_verdict
from desktop.hub.quants import QuantChoice, QuantReport, recommended_quant
from desktop.hub.search import HubModel
from desktop.ui.style.icons import icon
from desktop.ui.style.theme import current
from desktop.ui.widgets.table_model import RecordTableModel, TableColumn
from desktop.units import format_bytes, format_count


def _updated(m: HubModel) -> str:
    return m.last_modified.strftime("%Y-%m-%d") if m.last_modified else "—"


def _params(m: HubModel) -> int:
    return m.parameters or 0


def _count(m: HubModel, n: int) -> str:
    return "—" if m.note else format_count(n)  # starters come from Hearth's list, not the Hub


GATED_TIP = (
    "Gated: accept its licence on huggingface.co, then give Hearth a Hugging Face token "
    "(Hub ▸ Hugging Face token…) to download it"
)


def _model_tip(m: HubModel) -> str:
    tip = m.note or m.repo_id
    return f"{tip}\n{GATED_TIP}" if m.gated else tip


def _starter_speed(m: HubModel) -> str:
    """A starter's predicted speed (its recommended build); a search result's is known once its
    repository is opened and its files are listed."""
    if m.predicted_tg_tps is None:
        return "—"
    return speed_text(m.predicted_tg_tps, speed_verdict(m.predicted_tg_tps, True))


def _starter_speed_tip(m: HubModel) -> str:
    if m.predicted_tg_tps is None:
        return "Open the repository to see each build's predicted speed on this computer"
    return f"{m.starter_quant} build, predicted on this computer (the quant list says how)"


class HubResultsModel(RecordTableModel[HubModel]):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(
            [
                TableColumn(
                    "Model",
                    lambda m: m.repo_id,
                    lambda m: m.repo_id.lower(),
                    tooltip=_model_tip,
                ),
                TableColumn(
                    "Params", lambda m: format_count(m.parameters), lambda m: m.parameters or 0, numeric=True
                ),
                TableColumn(
                    "Downloads", lambda m: _count(m, m.downloads), lambda m: m.downloads, numeric=True
                ),
                TableColumn("Likes", lambda m: _count(m, m.likes), lambda m: m.likes, numeric=True),
                TableColumn(
                    "Updated", _updated, lambda m: m.last_modified.timestamp() if m.last_modified else 0
                ),
                TableColumn(
                    "Speed here",
                    _starter_speed,
                    lambda m: m.predicted_tg_tps or 0.0,
                    numeric=True,
                    tooltip=_starter_speed_tip,
                ),
            ],
            parent,
        )

    def extra_data(self, record: HubModel, column: int, role: int) -> Any:
        if column == 0 and record.gated:
            if role == Qt.ItemDataRole.DecorationRole:
                return icon("lock")
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return f"{record.repo_id}, gated"
        return None


FIT_TEXT = {"fits": "Fits", "tight": "Tight", "no": "Won't fit"}
FIT_ICON = {"fits": "check-circle", "tight": "warning", "no": "cross"}
FIT_TOKEN = {"fits": "success", "tight": "warning", "no": "danger"}


def fit_colour(verdict: str) -> str:
    return str(getattr(current(), FIT_TOKEN.get(verdict, "danger")))


def fit_icon(verdict: str) -> QIcon:
    """The fit badge's icon, in the verdict's colour (a token: it follows a theme switch)."""
    return icon(FIT_ICON[verdict], FIT_TOKEN[verdict])


SPEED_TOKEN = {"fast": "success", "usable": "text", "slow": "warning", "won't fit": "danger"}


def speed_text(tps: float | None, verdict: Verdict) -> str:
    """ "12 tok/s · usable"; the verdict alone where it won't fit or the speed is unknown."""
    if verdict == "won't fit" or tps is None:
        return verdict
    shown = f"{tps:.1f}" if tps < 10 else f"{tps:.0f}"
    return f"{shown} tok/s · {verdict}"


def fitted_speed_verdict(tps: float | None, fit: str | None) -> Verdict | None:
    """The speed's word for a build whose fit is known (None before it is)."""
    return speed_verdict(tps, fit != "no") if fit is not None else None


def speed_colour(verdict: Verdict) -> str:
    return str(getattr(current(), SPEED_TOKEN[verdict]))


SPEED_HEADER_TIP = (
    "Predicted generation speed on this computer: the weights each token reads, over how fast "
    "this computer reads them (measured once, and calibrated by your speed runs)"
)


class QuantChoicesModel(RecordTableModel[QuantChoice]):
    """One row per quant (all shards together), with what it needs on this machine."""

    FIT_COLUMN = 4
    SPEED_COLUMN = 7

    def __init__(self, parent: Any = None) -> None:
        self.report: QuantReport | None = None
        self.machine: MachineSpeed | None = None
        self._recommended: str | None = None
        # Where a build is already on disk (the window sets how to look); read once a report.
        self.on_disk: Callable[[str, QuantChoice], Path | None] = lambda _repo, _choice: None
        self._local: dict[str, Path] = {}
        super().__init__(
            [
                TableColumn("Quant", self._name, tooltip=self._quant_tip),
                TableColumn("Size", self._size, lambda c: c.size_bytes, numeric=True),
                TableColumn(
                    "Bits/w", self._bits, lambda c: c.bits_per_weight(self._params()) or 0, numeric=True
                ),
                TableColumn(
                    "Memory", self._memory, lambda c: self._needed(c) or 0, numeric=True, tooltip=self._why
                ),
                TableColumn(
                    "Fits", self._fit, lambda c: ("fits", "tight", "no").index(self._verdict(c) or "no")
                ),
                TableColumn(
                    "Quality", lambda c: c.quality or ("Vision projector" if c.kind == "mmproj" else "—")
                ),
                TableColumn("Kind", self._kind, tooltip=self._kind_tip),
                TableColumn(
                    "Speed here",
                    self._speed,
                    lambda c: self._tps(c) or 0.0,
                    numeric=True,
                    tooltip=self._speed_tip,
                ),
            ],
            parent,
        )

    def set_machine(self, machine: MachineSpeed) -> None:
        """How fast this computer reads weights: predictions and the recommended build follow."""
        self.machine = machine
        self._recommend()
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def _recommend(self) -> None:
        found = recommended_quant(self.report, self.machine) if self.report and self.machine else None
        self._recommended = found.name if found else None

    def recommended(self) -> str | None:
        """The quant marked Recommended: the best quality that fits and is usable here."""
        return self._recommended

    def _tps(self, c: QuantChoice) -> float | None:
        if self.report is None or self.machine is None:
            return None
        return self.report.predicted_tg_tps(c, self.machine)

    def _speed_verdict(self, c: QuantChoice) -> Verdict | None:
        return fitted_speed_verdict(self._tps(c), self._verdict(c)) if c.kind == "model" else None

    def _speed(self, c: QuantChoice) -> str:
        verdict = self._speed_verdict(c)
        return speed_text(self._tps(c), verdict) if verdict else ""

    def _speed_tip(self, c: QuantChoice) -> str | None:
        tps = self._tps(c)
        if tps is None or self.report is None or self.machine is None:
            return None
        return explain(self.report.token_reads(c), self.machine, tps)

    def set_report(self, report: QuantReport | None) -> None:
        self.report = report
        self._recommend()
        self._find_local()
        self.set_records(report.choices if report else [])

    def refresh_on_disk(self) -> None:
        """A download ended or a model was removed: which builds are on disk now."""
        self._find_local()
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, 0))

    def _find_local(self) -> None:
        report = self.report
        found = ((c.name, self.on_disk(report.repo_id, c)) for c in report.choices) if report else ()
        self._local = {name: path for name, path in found if path is not None}

    def local_path(self, c: QuantChoice) -> Path | None:
        return self._local.get(c.name)

    def _name(self, c: QuantChoice) -> str:
        return f"{c.name} · Recommended" if c.name == self._recommended else c.name

    def _quant_tip(self, c: QuantChoice) -> str:
        files = "\n".join(c.filenames)
        local = self._local.get(c.name)
        lines = [f"In My models: {local}"] if local else []
        if c.name == self._recommended:
            lines.append("Recommended: the best quality that fits this computer and writes at a usable speed")
        return "\n".join([*lines, files])

    def _params(self) -> int | None:
        return self.report.parameters if self.report else None

    def _needed(self, c: QuantChoice) -> int | None:
        return self.report.memory_for(c) if self.report else None

    def _verdict(self, c: QuantChoice) -> str | None:
        return self.report.fit_for(c) if self.report else None

    @staticmethod
    def _size(c: QuantChoice) -> str:
        size = format_bytes(c.size_bytes)
        return f"{size} ({c.shards} parts)" if c.shards > 1 else size

    def _bits(self, c: QuantChoice) -> str:
        bits = c.bits_per_weight(self._params())
        return f"{bits:.2f}" if bits else "—"

    def _memory(self, c: QuantChoice) -> str:
        needed = self._needed(c)
        return format_bytes(needed) if needed else "—"

    def _why(self, c: QuantChoice) -> str | None:
        if self.report is None or c.kind != "model":
            return None
        kv = "unknown KV cache" if self.report.shape is None else "its KV cache"
        return (
            f"Weights plus {kv} at {self.report.context:,} tokens of context, "
            f"against {format_bytes(self.report.available_bytes)} of memory on this machine"
        )

    def _fit(self, c: QuantChoice) -> str:
        verdict = self._verdict(c)
        return FIT_TEXT[verdict] if verdict else ""

    def _kind(self, c: QuantChoice) -> str:
        if self.report is None or c.kind != "model":
            return ""
        # one model in several quants: the first file's header speaks for every row
        return kind_label(self.report.has_chat_template) if self.report.header_read else "…"

    def _kind_tip(self, c: QuantChoice) -> str | None:
        if self.report is None or c.kind != "model":
            return None
        if not self.report.header_read:
            return "Reading the model file's header on the Hub…"
        return kind_tip(self.report.has_chat_template) or self.report.kind_unknown_why

    def extra_data(self, record: QuantChoice, column: int, role: int) -> Any:
        if column == self.SPEED_COLUMN:
            speed = self._speed_verdict(record)
            if role == Qt.ItemDataRole.ForegroundRole and speed:
                return QBrush(QColor(speed_colour(speed)))
            return None
        if column == 0 and role == Qt.ItemDataRole.FontRole and record.name == self._recommended:
            font = QFont()
            font.setBold(True)
            return font
        if column == 0 and record.name in self._local:
            if role == Qt.ItemDataRole.DecorationRole:
                return icon("models", "accent")
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return f"{record.name}, in My models"
            return None
        if column != self.FIT_COLUMN or not (verdict := self._verdict(record)):
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor(fit_colour(verdict)))
        if role == Qt.ItemDataRole.DecorationRole:
            return fit_icon(verdict)
        return None
