"""Tables of records: sortable, one row selected at a time, every column kept in view."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from desktop.ui.table_model import RecordRole, RecordTableModel, SortRole


class RecordTableView(QTableView):
    """A table whose first column (the name) takes the room the others leave, eliding if it must.

    Qt's Stretch mode does not shrink a section below the width it had, so a narrow pane
    would scroll sideways and hide the figures; this keeps every column in view.
    """

    MIN_NAME_WIDTH = 120

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
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
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setStretchLastSection(False)
    # Size columns from the first rows, not every row: a long result list stays cheap to show.
    header.setResizeContentsPrecision(30)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
    for column in range(1, model.columnCount()):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    header.sectionResized.connect(lambda index, _old, _new: view.fit_name_column() if index else None)
    view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
    return view


def selected_record(view: QTableView) -> object | None:
    rows = view.selectionModel().selectedRows()
    return rows[0].data(RecordRole) if rows else None
