"""The library pane: models on this machine, and the Hub browser with its download bar."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.hub.download import DownloadProgress
from desktop.hub.files import HubFile
from desktop.hub.search import SORT_KEYS
from desktop.library.scan import LocalModel
from desktop.ui.table_model import RecordRole, RecordTableModel, SortRole
from desktop.units import format_bytes, format_count, format_duration


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


def _table(model: RecordTableModel[object], name: str) -> RecordTableView:
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
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
    for column in range(1, model.columnCount()):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    header.sectionResized.connect(lambda index, _old, _new: view.fit_name_column() if index else None)
    view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
    return view


def selected_record(view: QTableView) -> object | None:
    rows = view.selectionModel().selectedRows()
    return rows[0].data(RecordRole) if rows else None


class LocalTab(QWidget):
    load_requested = Signal(object)  # LocalModel
    refresh_requested = Signal()

    def __init__(self, model: RecordTableModel[LocalModel], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = _table(model, "Models on this computer")  # type: ignore[arg-type]
        self.details = QLabel("Select a model to see what its file says.")
        self.details.setObjectName("modelDetails")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("Model details")
        self.empty_hint = QLabel(
            "No models yet. Find one in Discover, or put .gguf files in the models folder."
        )
        self.empty_hint.setWordWrap(True)
        self.load_button = QPushButton("Load")
        self.load_button.setAccessibleName("Load model")
        self.load_button.setToolTip("Load the selected model for chat (Enter)")
        self.load_button.setEnabled(False)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setAccessibleName("Refresh the library")

        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        buttons.addWidget(self.load_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.details)
        layout.addLayout(buttons)

        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.doubleClicked.connect(lambda _index: self._load())
        self.view.activated.connect(lambda _index: self._load())
        self.load_button.clicked.connect(self._load)
        self.refresh_button.clicked.connect(self.refresh_requested)
        model.modelReset.connect(self._model_reset)
        self._model_reset()

    def _model_reset(self) -> None:
        self.empty_hint.setVisible(self.view.model().rowCount() == 0)
        self._selection_changed()

    def selected(self) -> LocalModel | None:
        record = selected_record(self.view)
        return record if isinstance(record, LocalModel) else None

    def select_path(self, path: str) -> None:
        model = self.view.model()
        for row in range(model.rowCount()):
            record = model.index(row, 0).data(RecordRole)
            if isinstance(record, LocalModel) and str(record.path) == path:
                self.view.selectRow(row)
                return

    def _selection_changed(self) -> None:
        model = self.selected()
        self.load_button.setEnabled(model is not None)
        if model is None:
            self.details.setText("Select a model to see what its file says.")
            return
        lines = [f"<b>{model.name}</b>"]
        if model.ok:
            facts = [
                model.architecture or "unknown architecture",
                f"{format_count(model.parameters)} parameters",
                model.quant or "unknown quantisation",
                f"{format_count(model.context_length)} context",
                "chat template" if model.has_chat_template else "no chat template",
            ]
            if model.shards > 1:
                facts.append(f"{model.shards} parts")
            lines.append(" · ".join(facts))
        else:
            lines.append(f"<span style='color:#c0392b'>Broken: {model.reason}</span>")
        lines.append(f"<span style='color:gray'>{model.path}</span>")
        self.details.setText("<br>".join(lines))

    def _load(self) -> None:
        model = self.selected()
        if model is not None:
            self.load_requested.emit(model)


class DiscoverTab(QWidget):
    search_requested = Signal(str, str)  # query, sort key
    repo_requested = Signal(str)
    download_requested = Signal(str, object)  # repo id, HubFile
    cancel_requested = Signal()

    def __init__(
        self,
        results: RecordTableModel[object],
        files: RecordTableModel[object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.query = QLineEdit()
        self.query.setPlaceholderText("Search GGUF models on Hugging Face (e.g. gemma, qwen, llama)")
        self.query.setClearButtonEnabled(True)
        self.query.setAccessibleName("Search the Hub")
        self.sort = QComboBox()
        self.sort.setAccessibleName("Sort results by")
        for key in SORT_KEYS:
            self.sort.addItem(key.capitalize(), key)
        self.search_button = QPushButton("Search")
        self.search_button.setAccessibleName("Search")
        top = QHBoxLayout()
        top.addWidget(self.query, 1)
        top.addWidget(self.sort)
        top.addWidget(self.search_button)

        self.status = QLabel()
        self.status.setObjectName("hubStatus")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Hub status")
        self.status.hide()

        self.results_view = _table(results, "Search results")
        self.files_label = QLabel("Open a model to see its GGUF files.")
        self.files_view = _table(files, "Model files")
        self.download_button = QPushButton("Download")
        self.download_button.setAccessibleName("Download the selected file")
        self.download_button.setEnabled(False)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.files_label)
        lower_layout.addWidget(self.files_view, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.download_button)
        lower_layout.addLayout(row)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.results_view)
        split.addWidget(lower)
        split.setChildrenCollapsible(False)

        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        self.progress_label.setAccessibleName("Download status")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Download progress")
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel download")
        self.download_box = QWidget()
        box = QVBoxLayout(self.download_box)
        box.setContentsMargins(0, 4, 0, 0)
        box.addWidget(self.progress_label)
        bar_row = QHBoxLayout()
        bar_row.addWidget(self.progress, 1)
        bar_row.addWidget(self.cancel_button)
        box.addLayout(bar_row)
        self.download_box.hide()

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        layout.addWidget(self.download_box)

        self.query.returnPressed.connect(self._search)
        self.search_button.clicked.connect(self._search)
        self.sort.currentIndexChanged.connect(lambda _i: self._search() if self.query.text() else None)
        self.results_view.selectionModel().selectionChanged.connect(self._open_selected)
        self.files_view.selectionModel().selectionChanged.connect(self._file_selected)
        self.files_view.doubleClicked.connect(lambda _index: self._download())
        self.download_button.clicked.connect(self._download)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self._repo: str | None = None
        self._downloading = False
        self._download_name = ""

    def _search(self) -> None:
        self.search_requested.emit(self.query.text(), str(self.sort.currentData()))

    def _open_selected(self) -> None:
        record = selected_record(self.results_view)
        repo_id = getattr(record, "repo_id", None)
        if repo_id:
            self._repo = repo_id
            self.files_label.setText(f"Files of <b>{repo_id}</b> — loading…")
            self.repo_requested.emit(repo_id)

    def show_files_of(self, repo_id: str, count: int) -> None:
        self.files_label.setText(
            f"Files of <b>{repo_id}</b>: {count} GGUF file{'s' if count != 1 else ''}"
            if count
            else f"<b>{repo_id}</b> has no GGUF model files."
        )

    def _file_selected(self) -> None:
        self.download_button.setEnabled(
            selected_record(self.files_view) is not None and not self._downloading
        )

    def _download(self) -> None:
        record = selected_record(self.files_view)
        if isinstance(record, HubFile) and self._repo and not self._downloading:
            self.download_requested.emit(self._repo, record)

    def set_busy(self, busy: bool) -> None:
        self.search_button.setEnabled(not busy)
        if busy:
            self.show_status("Asking the Hub…", "info")

    def show_status(self, text: str, level: str = "info") -> None:
        colours = {"info": "", "error": "color: #a61b1b; font-weight: bold;"}
        self.status.setStyleSheet(f"QLabel#hubStatus {{ {colours.get(level, '')} }}")
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def download_started(self, repo_id: str, filename: str) -> None:
        self._downloading = True
        self._download_name = filename
        self.download_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress_label.setText(f"<b>{filename}</b> from {repo_id}: starting…")
        self.cancel_button.setEnabled(True)
        self.download_box.show()

    def download_progress(self, p: DownloadProgress) -> None:
        if p.total_bytes:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int((p.fraction or 0) * 1000))
            self.progress.setFormat(f"{(p.fraction or 0) * 100:.0f}%")
        name = f"<b>{self._download_name}</b>"
        if p.total_bytes and p.done_bytes >= p.total_bytes:
            self.progress_label.setText(f"{name}: downloaded; checking it against the Hub's checksum…")
            return
        self.progress_label.setText(
            f"{name}: {format_bytes(p.done_bytes)} of {format_bytes(p.total_bytes)}"
            f" · {format_bytes(p.bytes_per_second)}/s · {format_duration(p.eta_seconds)} left"
        )

    def download_ended(self, message: str) -> None:
        self._downloading = False
        self.download_box.hide()
        self._file_selected()
        if message:
            self.show_status(message, "error" if message.startswith("Download failed") else "info")


class LibraryPane(QTabWidget):
    def __init__(
        self,
        local_model: RecordTableModel[LocalModel],
        results: RecordTableModel[object],
        files: RecordTableModel[object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.local = LocalTab(local_model)
        self.discover = DiscoverTab(results, files)
        self.addTab(self.local, "My models")
        self.addTab(self.discover, "Discover")
        self.setAccessibleName("Model library")
        self.setDocumentMode(True)
