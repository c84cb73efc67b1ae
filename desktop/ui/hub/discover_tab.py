"""The Discover tab: search the Hub, a repo's quant choices and card, and the download queue."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QDesktopServices, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.gguf.fit import system_memory_bytes
from desktop.hub.download_queue import DownloadItem
from desktop.hub.quants import QuantChoice
from desktop.hub.search import SORT_KEYS, SearchFilters
from desktop.ui.hub.downloads import ItemRole, StatusRole
from desktop.ui.style.icons import icon
from desktop.ui.style.theme import current
from desktop.ui.widgets.context_choice import context_combo
from desktop.ui.widgets.record_table import record_table, selected_record
from desktop.ui.widgets.table_model import RecordTableModel

Index = QModelIndex | QPersistentModelIndex

B = 1_000_000_000
SIZE_RANGES: list[tuple[str, tuple[int | None, int | None]]] = [
    ("Any size", (None, None)),
    ("Under 2B", (None, 2 * B)),
    ("2B–8B", (2 * B, 8 * B)),
    ("8B–16B", (8 * B, 16 * B)),
    ("Over 16B", (16 * B, None)),
]


class DownloadDelegate(QStyledItemDelegate):
    """A download as two lines of text over a progress bar."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        line = option.fontMetrics.lineSpacing()
        return QSize(200, line * 2 + 22)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        rect: QRect = option.rect.adjusted(6, 3, -6, -3)
        line = option.fontMetrics.lineSpacing()
        item: DownloadItem = index.data(ItemRole)
        painter.save()
        bold = painter.font()
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(
            rect.adjusted(0, 0, 0, -(rect.height() - line)), Qt.AlignmentFlag.AlignLeft, item.label
        )
        painter.restore()
        painter.drawText(
            QRect(rect.left(), rect.top() + line, rect.width(), line),
            Qt.AlignmentFlag.AlignLeft,
            str(index.data(StatusRole)),
        )
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(rect.left(), rect.top() + 2 * line + 2, rect.width(), 12)
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int((item.fraction or 0) * 1000)
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


class DiscoverTab(QWidget):
    search_requested = Signal(str, str, str, object)  # query, sort key, author, SearchFilters
    more_requested = Signal()
    repo_requested = Signal(str)
    lineage_requested = Signal(str, str)  # relation, base repo id
    context_chosen = Signal(object)  # int, or None for the model's default
    download_requested = Signal(str, object)  # repo id, QuantChoice
    open_requested = Signal(object)  # Path: the copy already on disk, to load and chat with
    pause_requested = Signal(object)  # DownloadItem
    resume_requested = Signal(object)
    cancel_requested = Signal(object)

    def __init__(
        self,
        results: RecordTableModel[object],
        quants: RecordTableModel[object],
        downloads: QAbstractItemModel,
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
        self.search_button = QPushButton(icon("search"), "Search")
        self.search_button.setAccessibleName("Search")
        top = QHBoxLayout()
        top.addWidget(self.query, 1)
        top.addWidget(self.sort)
        top.addWidget(self.search_button)

        self.author = QLineEdit()
        self.author.setPlaceholderText("Author (e.g. bartowski)")
        self.author.setClearButtonEnabled(True)
        self.author.setAccessibleName("Only models by this author")
        self.size_range = QComboBox()
        self.size_range.setAccessibleName("Parameter count")
        for label, bounds in SIZE_RANGES:
            self.size_range.addItem(label, bounds)
        self.fits_only = QCheckBox("Fits this computer")
        self.fits_only.setAccessibleName("Only models that fit this computer's memory")
        self.fits_only.setToolTip("Judged on a Q4_K_M build with the default context")
        filters = QHBoxLayout()
        filters.addWidget(self.author, 1)
        filters.addWidget(self.size_range)
        filters.addWidget(self.fits_only)
        self.results_label = QLabel()
        self.results_label.setAccessibleName("What the list shows")
        self.results_label.setWordWrap(True)

        self.status = QLabel()
        self.status.setObjectName("hubStatus")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Hub status")
        self.status.hide()

        self.results_view = record_table(results, "Search results")
        self.results_view.hide_order = [3, 4, 2]  # Likes, Updated, Downloads; Speed here stays
        self.repo_label = QLabel("Open a model to see its quantisations.")
        self.repo_label.setWordWrap(True)
        self.quants_view = record_table(quants, "Quantisations")
        # Bits/w, Kind (the line above says it too: one model, one kind), Quality
        self.quants_view.hide_order = [2, 6, 5, 3]  # Bits/w, Kind, Quality, Memory; Speed stays
        # Whether a quant is already in the library, and where (the window knows the folder).
        self.local_copy: Callable[[str, QuantChoice], Path | None] = lambda _repo, _choice: None
        self.download_button = QPushButton(icon("download", "on_accent"), "Download")
        self.download_button.setObjectName("primaryButton")
        self.download_button.setAccessibleName("Download the selected quantisation")
        self.download_button.setEnabled(False)
        self.card = QTextBrowser()
        self.card.setAccessibleName("Model card")
        self.card.setOpenLinks(False)  # Hearth's own links stay in the app; web links open outside
        self.card.setPlaceholderText("The model card appears here.")

        self.context = context_combo("Context size for the memory estimate")
        quant_page = QWidget()
        quant_layout = QVBoxLayout(quant_page)
        quant_layout.setContentsMargins(0, 0, 0, 0)
        quant_layout.addWidget(self.quants_view, 1)
        row = QHBoxLayout()
        row.addWidget(self.context)
        row.addStretch(1)
        row.addWidget(self.download_button)
        quant_layout.addLayout(row)
        self.details = QTabWidget()
        self.details.setDocumentMode(True)
        self.details.addTab(quant_page, "Quantisations")
        self.details.addTab(self.card, "Model card")

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.repo_label)
        lower_layout.addWidget(self.details, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.results_view)
        split.addWidget(lower)
        split.setChildrenCollapsible(False)

        self.downloads_view = QListView()
        self.downloads_view.setModel(downloads)
        self.downloads_view.setItemDelegate(DownloadDelegate(self.downloads_view))
        self.downloads_view.setAccessibleName("Downloads")
        row_height = self.downloads_view.fontMetrics().lineSpacing() * 2 + 22
        self.downloads_view.setFixedHeight(row_height * 2 + 6)  # two downloads in view, then it scrolls
        self.pause_button = QPushButton(icon("pause"), "Pause")
        self.pause_button.setAccessibleName("Pause or resume the selected download")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel the selected download")
        self.downloads_box = QWidget()
        box = QVBoxLayout(self.downloads_box)
        box.setContentsMargins(0, 4, 0, 0)
        title = QLabel("<b>Downloads</b>")
        box.addWidget(title)
        box.addWidget(self.downloads_view)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.cancel_button)
        box.addLayout(buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.status)
        layout.addWidget(self.results_label)
        layout.addWidget(split, 1)
        layout.addWidget(self.downloads_box)

        self.query.returnPressed.connect(self._search)
        self.search_button.clicked.connect(self._search)
        self.sort.currentIndexChanged.connect(lambda _i: self._search() if self.query.text() else None)
        self.author.returnPressed.connect(self._search)
        self.size_range.currentIndexChanged.connect(lambda _i: self._search())
        self.fits_only.toggled.connect(lambda _on: self._search())
        bar = self.results_view.verticalScrollBar()
        bar.valueChanged.connect(
            lambda value: self.more_requested.emit() if value >= bar.maximum() > 0 else None
        )
        self.results_view.selectionModel().selectionChanged.connect(self._open_selected)
        self.quants_view.selectionModel().selectionChanged.connect(self._quant_selected)
        self.quants_view.doubleClicked.connect(lambda _index: self._download())
        self.download_button.clicked.connect(self._download)
        self.card.anchorClicked.connect(self._card_link)
        self.context.currentIndexChanged.connect(
            lambda _i: self.context_chosen.emit(self.context.currentData())
        )
        self.pause_button.clicked.connect(self._pause_or_resume)
        self.cancel_button.clicked.connect(self._cancel)
        downloads.rowsInserted.connect(self._downloads_changed)
        downloads.rowsRemoved.connect(self._downloads_changed)
        downloads.modelReset.connect(self._downloads_changed)
        downloads.dataChanged.connect(self._downloads_changed)
        self.downloads_view.selectionModel().selectionChanged.connect(self._downloads_changed)
        self._repo: str | None = None
        self.available_bytes = system_memory_bytes()  # the window updates it from the device probe
        self._downloads_changed()

    # Search and repo

    def _search(self) -> None:
        low, high = self.size_range.currentData() or (None, None)
        narrowing = SearchFilters(
            min_parameters=low,
            max_parameters=high,
            fits_within_bytes=self.available_bytes if self.fits_only.isChecked() else None,
        )
        self.search_requested.emit(
            self.query.text(), str(self.sort.currentData()), self.author.text(), narrowing
        )

    def show_results_note(self, text: str) -> None:
        self.results_label.setText(text)

    def _open_selected(self) -> None:
        repo_id = getattr(selected_record(self.results_view), "repo_id", None)
        if repo_id:
            self.open_repo(repo_id)

    def open_repo(self, repo_id: str) -> None:
        self._repo = repo_id
        self.repo_label.setText(f"<b>{repo_id}</b> — asking the Hub…")
        self.card.clear()
        self.repo_requested.emit(repo_id)

    def show_repo(self, repo_id: str, count: int, summary: str, tooltip: str | None = None) -> None:
        if count:
            self.repo_label.setText(f"<b>{repo_id}</b> · {summary}")
        else:
            self.repo_label.setText(f"<b>{repo_id}</b> has no GGUF model files.")
        self.repo_label.setToolTip(tooltip or "")

    def show_card(self, repo_id: str, markdown: str) -> None:
        if repo_id == self._repo:
            self.card.setMarkdown(markdown)

    def _card_link(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("hearth-children:"):
            relation, _, base = text.removeprefix("hearth-children:").partition(":")
            self.lineage_requested.emit(relation, base)
        elif text.startswith("hearth-base:"):
            self.lineage_requested.emit("quantized", text.removeprefix("hearth-base:"))
        elif url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)

    def _selected_quant(self) -> QuantChoice | None:
        record = selected_record(self.quants_view)
        return record if isinstance(record, QuantChoice) else None

    def _quant_selected(self) -> None:
        choice = self._selected_quant()
        local = self.local_copy(self._repo, choice) if choice is not None and self._repo else None
        self.download_button.setEnabled(choice is not None)
        self.download_button.setText("Open" if local is not None else "Download")
        self.download_button.setIcon(icon("chat" if local is not None else "download", "on_accent"))
        self.download_button.setToolTip(
            f"Already in My models ({local}): Open loads it and starts a chat" if local is not None else ""
        )

    def refresh_download_button(self) -> None:
        """After a download ends: the quant it fetched is on disk now."""
        self._quant_selected()

    def _download(self) -> None:
        choice = self._selected_quant()
        if choice is None or not self._repo:
            return
        local = self.local_copy(self._repo, choice)
        if local is not None:
            self.open_requested.emit(local)
        else:
            self.download_requested.emit(self._repo, choice)

    def set_busy(self, busy: bool) -> None:
        self.search_button.setEnabled(not busy)
        if busy:
            self.show_status("Asking the Hub…", "info")

    def show_status(self, text: str, level: str = "info") -> None:
        colours = {"info": "", "error": f"color: {current().danger}; font-weight: bold;"}
        self.status.setStyleSheet(f"QLabel#hubStatus {{ {colours.get(level, '')} }}")
        self.status.setText(text)
        self.status.setVisible(bool(text))

    # Downloads

    def selected_download(self) -> DownloadItem | None:
        rows = self.downloads_view.selectionModel().selectedRows()
        if rows:
            item = rows[0].data(ItemRole)
            return item if isinstance(item, DownloadItem) else None
        model = self.downloads_view.model()
        # With nothing selected, the buttons act on the first download.
        return model.index(0, 0).data(ItemRole) if model.rowCount() else None

    def _downloads_changed(self, *args: object) -> None:
        count = self.downloads_view.model().rowCount()
        self.downloads_box.setVisible(count > 0)
        item = self.selected_download()
        self.pause_button.setEnabled(item is not None)
        self.cancel_button.setEnabled(item is not None)
        if item is not None:
            self.pause_button.setText({"paused": "Resume", "failed": "Retry"}.get(item.state, "Pause"))

    def _pause_or_resume(self) -> None:
        item = self.selected_download()
        if item is None:
            return
        if item.state in ("paused", "failed"):
            self.resume_requested.emit(item)
        else:
            self.pause_requested.emit(item)

    def _cancel(self) -> None:
        item = self.selected_download()
        if item is not None:
            self.cancel_requested.emit(item)
