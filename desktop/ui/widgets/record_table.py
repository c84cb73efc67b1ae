"""Tables of records: sortable, one row selected at a time, every column kept in view."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from desktop.ui.widgets.table_model import RecordRole, RecordTableModel, SortRole

SAMPLE_ROWS = 40  # column widths come from the header and the first rows
CELL_PADDING = 18
MAX_COLUMN_WIDTH = 190


class RecordTableView(QTableView):
    """A table whose first column (the name) takes the room the others leave, eliding if it must.

    Qt's Stretch mode does not shrink a section below the width it had, and its
    ResizeToContents mode measures again on every layout (a third of a second for 500 rows
    here), so the figures' columns are sized once per change of rows, from a sample.
    """

    MIN_NAME_WIDTH = 170

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_name_column()

    def size_columns(self) -> None:
        model = self.model()
        header = self.horizontalHeader()
        metrics = self.fontMetrics()
        rows = min(model.rowCount(), SAMPLE_ROWS)
        for column in range(1, model.columnCount()):
            title = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
            texts = [str(model.index(row, column).data() or "") for row in range(rows)]
            width = max(metrics.horizontalAdvance(t) for t in [title, *texts]) + CELL_PADDING
            header.resizeSection(column, min(width, MAX_COLUMN_WIDTH))  # the name keeps room
        self.fit_name_column()

    def fit_name_column(self) -> None:
        header = self.horizontalHeader()
        others = sum(header.sectionSize(c) for c in range(1, header.count()))
        header.resizeSection(0, max(self.MIN_NAME_WIDTH, self.viewport().width() - others))


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
