"""The results tab: every run kept, a chart of quality against speed or size, CSV and JSON export."""

from __future__ import annotations

import statistics
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.chats.message_html import model_label
from desktop.compare.recording import runs_text, spread_text
from desktop.compare.results import CompareStore, RunRow, to_csv, to_json
from desktop.ui.widgets.record_table import record_table, selected_record
from desktop.ui.widgets.table_model import RecordTableModel, TableColumn
from desktop.units import format_bytes

QUALITY = {
    "KL divergence (lower is better)": "kld_mean",
    "Perplexity (lower is better)": "ppl",
    "Same top token, % (higher is better)": "top1_agreement",
}
SPEED = {"Generation tokens/s": "tg_tps", "Prompt tokens/s": "pp_tps", "File size (GiB)": "size_bytes"}
# The chart shows figures in plain units: top-token agreement as a percentage (the table's too).
CHART_SCALE = {"top1_agreement": 100.0}


def summary(row: RunRow) -> str:
    m = row.metrics
    if row.kind == "bench":
        pp, tg = spread_text(m["pp_tps"], 0), spread_text(m["tg_tps"], 1)
        ttft = statistics.median(m["ttft_ms"])
        return (
            f"pp {pp} · tg {tg} t/s · {runs_text(len(m['tg_tps']))} · {ttft:.0f} ms"
            f" · {format_bytes(m['peak_rss_bytes'])}"
        )
    return (
        f"PPL {m['ppl']:.3f} · KLD {m['kld_mean']:.4f} · top {100 * m['top1_agreement']:.1f}%"
        f" · Δp {100 * m['delta_p_mean']:+.2f}%"
    )


def _tooltip(row: RunRow) -> str:
    if row.kind == "bench":
        what = (
            "pp: prompt tokens/s · tg: generation tokens/s (median ± standard deviation over the"
            " runs) · time to first token · peak memory"
        )
    else:
        what = (
            "perplexity (lower is better) · mean KL divergence from the reference (lower is better)"
            " · same top token (higher is better) · mean Δp (nearer 0 is better)"
        )
    machine = row.machine
    devices = ", ".join(machine.get("devices", []))
    return f"{summary(row)}\n{what}\n{machine.get('cpu', '')}; {devices}\n{machine.get('llama_cpp', '')}"


def _columns() -> list[TableColumn[RunRow]]:
    return [
        TableColumn("Model", lambda r: model_label(r.model)),
        TableColumn("When", lambda r: r.created.replace("T", " ").rstrip("Z")),
        TableColumn("Kind", lambda r: "Speed" if r.kind == "bench" else "Quality"),
        TableColumn("Quant", lambda r: r.quant or "—"),
        TableColumn(
            "Size", lambda r: format_bytes(r.size_bytes or 0), lambda r: r.size_bytes or 0, numeric=True
        ),
        TableColumn(
            "Figures",
            summary,
            tooltip=_tooltip,
            header_tooltip=(
                "Speed: tokens/s, higher is better. Quality: PPL and KLD lower is better,"
                " top (same top token) higher is better, Δp nearer 0 is better."
            ),
        ),
    ]


def chart_points(rows: list[RunRow], quality: str, speed: str) -> list[tuple[str, float, float]]:
    """(label, x, y) a build: its newest quality figure against its newest speed figure (or size)."""
    newest_eval: dict[str, RunRow] = {}
    newest_bench: dict[str, RunRow] = {}
    for row in rows:  # newest first
        target = newest_eval if row.kind == "eval" else newest_bench
        target.setdefault(row.model, row)
    points = []
    for model, scored in newest_eval.items():
        y = scored.metrics.get(quality)
        if y is None:
            continue
        if speed == "size_bytes":
            x: float | None = float(scored.size_bytes or 0) / 1024**3
        else:
            timed = newest_bench.get(model)
            x = statistics.median(timed.metrics[speed]) if timed else None
        if x is not None:
            scale = CHART_SCALE.get(quality, 1.0)
            points.append((scored.quant or model_label(model), float(x), scale * float(y)))
    return points


class ResultsTab(QWidget):
    needs = "Results: every run kept, whichever models are checked."

    def __init__(self, store: CompareStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg  # imported with this tab, not when the app starts

        self._pg = pg
        self._store = store
        self._rows: list[RunRow] = []
        self.kind = QComboBox()
        self.kind.setAccessibleName("Show runs")
        for label, value in (("All runs", None), ("Speed", "bench"), ("Quality", "eval")):
            self.kind.addItem(label, value)
        self.table_model: RecordTableModel[RunRow] = RecordTableModel(_columns(), self)
        self.table = record_table(self.table_model, "Run history")  # type: ignore[arg-type]
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.delete_button = QPushButton("Delete run")
        self.csv_button = QPushButton("Export CSV…")
        self.json_button = QPushButton("Export JSON…")
        self.quality = QComboBox()
        self.quality.addItems(list(QUALITY))
        self.quality.setAccessibleName("Chart quality measure")
        self.speed = QComboBox()
        self.speed.addItems(list(SPEED))
        self.speed.setAccessibleName("Chart speed measure")
        self.plot = pg.PlotWidget()
        self.plot.setAccessibleName("Quality against speed")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.getViewBox().setDefaultPadding(0.15)  # room for the labels at the edges
        for axis in ("left", "bottom"):
            # plain numbers in the labels' units, never a "×0.001" multiplier beside the label
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.empty = QLabel(
            "Score builds in Quality (and time them in Speed) to see them here, one point a build."
        )
        self.empty.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.kind)
        top.addStretch(1)
        for button in (self.delete_button, self.csv_button, self.json_button):
            top.addWidget(button)
        chart_top = QHBoxLayout()
        chart_top.addWidget(self.quality)
        chart_top.addWidget(QLabel("against"))
        chart_top.addWidget(self.speed)
        chart_top.addStretch(1)
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addLayout(top)
        table_layout.addWidget(self.table)
        chart_box = QWidget()
        chart_layout = QVBoxLayout(chart_box)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.addLayout(chart_top)
        chart_layout.addWidget(self.empty)
        chart_layout.addWidget(self.plot, 1)
        splitter = QSplitter()
        splitter.addWidget(table_box)
        splitter.addWidget(chart_box)
        splitter.setSizes([700, 450])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self.kind.currentIndexChanged.connect(self.refresh)
        self.quality.currentIndexChanged.connect(self.draw)
        self.speed.currentIndexChanged.connect(self.draw)
        self.delete_button.clicked.connect(self.delete_selected)
        self.csv_button.clicked.connect(lambda: self._export("csv"))
        self.json_button.clicked.connect(lambda: self._export("json"))
        self.refresh()

    def refresh(self) -> None:
        self._rows = self._store.history()
        kind = self.kind.currentData()
        shown = [r for r in self._rows if kind is None or r.kind == kind]
        self.table_model.set_records(shown)
        # The figures in full: wider than the table's usual cap for a column.
        metrics = self.table.fontMetrics()
        widest = max((metrics.horizontalAdvance(summary(r)) for r in shown[:200]), default=0)
        figures = self.table_model.columnCount() - 1
        self.table.horizontalHeader().resizeSection(figures, max(widest + 16, 80))
        self.table.fit_name_column()
        self.draw()

    def shown_rows(self) -> list[RunRow]:
        return self.table_model.records()

    def draw(self) -> None:
        pg = self._pg
        palette = self.palette()
        self.plot.setBackground(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        accent = palette.color(QPalette.ColorRole.Highlight)
        self.plot.clear()
        quality_label, speed_label = self.quality.currentText(), self.speed.currentText()
        points = chart_points(self._rows, QUALITY[quality_label], SPEED[speed_label])
        self.empty.setVisible(not points)
        for axis, label in (("left", quality_label), ("bottom", speed_label)):
            self.plot.setLabel(axis, label, color=text.name())
            self.plot.getAxis(axis).setTextPen(text)
        if not points:
            return
        scatter = pg.ScatterPlotItem(
            [p[1] for p in points],
            [p[2] for p in points],
            size=11,
            brush=pg.mkBrush(accent),
            pen=pg.mkPen(text),
        )
        self.plot.addItem(scatter)
        for label, x, y in points:
            tag = pg.TextItem(label, color=text, anchor=(0.5, 1.3))
            tag.setPos(x, y)
            self.plot.addItem(tag)

    def delete_selected(self) -> None:
        row = selected_record(self.table)
        if isinstance(row, RunRow):
            self._store.delete_run(row.run_id)
            self.refresh()

    def _export(self, kind: str) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Export results",
            f"hearth-results.{kind}",
            "CSV (*.csv)" if kind == "csv" else "JSON (*.json)",
        )
        if name:
            self.export(Path(name), kind)

    def export(self, path: Path, kind: str) -> None:
        rows = self.shown_rows()
        data = to_csv(rows) if kind == "csv" else to_json(rows)
        path.write_text(data, encoding="utf-8")
