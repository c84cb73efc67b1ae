"""Tables of records: sortable, one row selected at a time, every column kept in view."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QTableView

from desktop.ui.widgets.table_model import RecordRole, RecordTableModel, SortRole

SAMPLE_ROWS = 40  # column widths come from the header and the first rows
CELL_PADDING = 18
ICON_GAP = 6
MAX_COLUMN_WIDTH = 190


class RecordTableView(QTableView):
    """A table whose first column (the name) takes the room the others leave, eliding if it must.

    Qt's Stretch mode does not shrink a section below the width it had, and its
    ResizeToContents mode measures again on every layout (a third of a second for 500 rows
    here), so the figures' columns are sized once per change of rows, from a sample.
    """

    MIN_NAME_WIDTH = 170
    NARROW_NAME_WIDTH = 90  # when even hiding columns leaves too little room: elided further

    def __init__(self) -> None:
        super().__init__()
        # Columns hidden, in this order, when the view is too narrow for all of them: a table
        # shows the columns that matter rather than a horizontal scroll bar.
        self.hide_order: list[int] = []
        self._widths: dict[int, int] = {}  # each column's width when shown
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_name_column()

    def size_columns(self) -> None:
        model = self.model()
        header = self.horizontalHeader()
        metrics = self.fontMetrics()
        rows = min(model.rowCount(), SAMPLE_ROWS)
        icon_width = self.iconSize().width()
        if icon_width <= 0:
            icon_width = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, self)
        for column in range(1, model.columnCount()):
            title = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
            texts = [str(model.index(row, column).data() or "") for row in range(rows)]
            width = max(metrics.horizontalAdvance(t) for t in [title, *texts]) + CELL_PADDING
            decoration = Qt.ItemDataRole.DecorationRole
            if any(model.index(row, column).data(decoration) is not None for row in range(rows)):
                width += icon_width + ICON_GAP  # a badge's icon beside its words
            self._widths[column] = min(width, MAX_COLUMN_WIDTH)  # the name keeps room
            header.resizeSection(column, self._widths[column])
        self.fit_name_column()

    def fit_name_column(self) -> None:
        header = self.horizontalHeader()
        room = self.viewport().width()
        # sectionSize of a hidden section is 0: the width it would take is kept apart
        widths = {c: self._widths.get(c, header.sectionSize(c)) for c in range(1, header.count())}
        shown = set(widths)
        others = sum(widths.values())
        for column in self.hide_order:
            if others + self.MIN_NAME_WIDTH <= room:
                break
            if column in shown:
                shown.discard(column)
                others -= widths[column]
        for column in widths:
            header.setSectionHidden(column, column not in shown)
        header.resizeSection(0, max(self.NARROW_NAME_WIDTH, room - others))


def record_table(model: RecordTableModel[object], name: str) -> RecordTableView:
    proxy = QSortFilterProxyModel(model)
    proxy.setSourceModel(model)
    proxy.setSortRole(SortRole)
    view = RecordTableView()
    view.setModel(proxy)
    view.setAccessibleName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSortingEnabled(True)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setStretchLastSection(False)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
    for column in range(1, model.columnCount()):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
    model.modelReset.connect(view.size_columns)
    model.rowsInserted.connect(lambda *_: view.size_columns())
    view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
    view.size_columns()
    return view


def selected_record(view: QTableView) -> object | None:
    rows = view.selectionModel().selectedRows()
    return rows[0].data(RecordRole) if rows else None
