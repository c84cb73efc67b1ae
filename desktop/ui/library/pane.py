"""My models: the models on this computer, their details and header, Load, Verify, Remove."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt, QUrl, Signal, SignalInstance
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.library.scan import LocalModel
from desktop.ui.library.model import LocalModelsModel
from desktop.ui.style.icons import icon
from desktop.ui.style.theme import current
from desktop.ui.widgets.context_choice import context_combo
from desktop.ui.widgets.record_table import record_table, selected_record
from desktop.ui.widgets.table_model import RecordRole
from desktop.units import count_of, format_bytes, format_count


class LocalTab(QWidget):
    load_requested = Signal(object)  # LocalModel
    remove_requested = Signal(object)  # LocalModel
    verify_requested = Signal(object)  # LocalModel
    header_requested = Signal(object)  # LocalModel: read every header field for the details
    files_dropped = Signal(list)  # list[Path] of .gguf files dropped on the list
    refresh_requested = Signal()

    def __init__(self, model: LocalModelsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = record_table(model, "Models on this computer")  # type: ignore[arg-type]
        # Narrow: Repo, Last used, Arch, Context, Source, Params, Kind, Quant, Size go first;
        # Fits and Speed here stay.
        self.view.hide_order = [6, 9, 1, 7, 5, 2, 8, 3, 4]
        self.details = QLabel("Select a model to see what its file says.")
        self.details.setObjectName("modelDetails")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("Model details")
        self.empty_hint = QLabel(
            "No models yet. Find one in Discover, or put .gguf files in the models folder."
        )
        self.empty_hint.setWordWrap(True)
        self.load_button = QPushButton(icon("play", "on_accent"), "Load")
        self.load_button.setObjectName("primaryButton")
        self.load_button.setAccessibleName("Load model")
        self.load_button.setToolTip("Load the selected model for chat (Enter)")
        self.load_button.setEnabled(False)
        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        self.refresh_button.setAccessibleName("Refresh the library")
        self.reveal_button = QPushButton(icon("folder"), "Show file")
        self.reveal_button.setAccessibleName("Show the selected model's file in the file manager")
        self.reveal_button.setEnabled(False)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name, architecture, quant or source")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAccessibleName("Filter the models")
        self.context = context_combo("Context size for the fit column")
        self.totals = QLabel()
        self.totals.setAccessibleName("Disk use")
        self.verify_button = QPushButton(icon("check-circle"), "Verify")
        self.verify_button.setAccessibleName("Check the selected model's file against its sha256")
        self.verify_button.setEnabled(False)
        self.header_view = QTextBrowser()
        self.header_view.setAccessibleName("Every field of the GGUF header")
        self.header_view.setPlaceholderText("Every field of the selected model's GGUF header.")
        self.remove_button = QPushButton(icon("trash"), "Remove…")
        self.remove_button.setAccessibleName("Remove or hide the selected model")
        self.remove_button.setEnabled(False)

        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.reveal_button)
        buttons.addWidget(self.verify_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.load_button)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.context)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.totals)
        self.details_tabs = QTabWidget()
        self.details_tabs.setDocumentMode(True)
        self.details_tabs.addTab(self.details, "Summary")
        self.details_tabs.addTab(self.header_view, "Header")
        self.details_tabs.setMaximumHeight(self.fontMetrics().lineSpacing() * 12)
        layout.addWidget(self.details_tabs)
        layout.addLayout(buttons)

        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.doubleClicked.connect(lambda _index: self._load())
        self.view.activated.connect(lambda _index: self._load())
        self.load_button.clicked.connect(self._load)
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.remove_button.clicked.connect(lambda: self._emit_selected(self.remove_requested))
        self.reveal_button.clicked.connect(self._reveal)
        self.verify_button.clicked.connect(lambda: self._emit_selected(self.verify_requested))
        self.setAcceptDrops(True)
        proxy = self.view.model()
        if isinstance(proxy, QSortFilterProxyModel):
            proxy.setFilterKeyColumn(-1)  # any column
            proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            self.filter.textChanged.connect(proxy.setFilterFixedString)
        self.context.currentIndexChanged.connect(self._context_changed)
        self._records = model
        model.modelReset.connect(self._model_reset)
        self._model_reset()

    def _model_reset(self) -> None:
        self.empty_hint.setVisible(self.view.model().rowCount() == 0)
        records = self._records.records()
        total = sum(m.size_bytes for m in records)
        self.totals.setText(
            f"{count_of(len(records), 'model')} · {format_bytes(total)} on disk" if records else ""
        )
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
        self.remove_button.setEnabled(model is not None)
        self.reveal_button.setEnabled(model is not None)
        self.verify_button.setEnabled(model is not None)
        self.header_view.clear()
        if model is not None:
            self.header_requested.emit(model)
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
                "chat model" if model.has_chat_template else "text completion (no chat template)",
            ]
            if model.shards > 1:
                facts.append(f"{model.shards} parts")
            lines.append(" · ".join(facts))
        else:
            lines.append(f"<span style='color:{current().danger}'>Broken: {model.reason}</span>")
        lines.append(f"<span style='color:gray'>{model.path}</span>")
        self.details.setText("<br>".join(lines))

    def show_header(self, model: LocalModel, rows: list[tuple[str, str]]) -> None:
        if model != self.selected():
            return  # the selection moved on while the header was read
        cells = "".join(f"<tr><td><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>" for k, v in rows)
        self.header_view.setHtml(f"<table cellspacing='4'>{cells}</table>")

    @staticmethod
    def _gguf_urls(event: QDragEnterEvent | QDropEvent) -> list[Path]:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        return [
            Path(u.toLocalFile())
            for u in urls
            if u.isLocalFile() and u.toLocalFile().lower().endswith(".gguf")
        ]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._gguf_urls(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = self._gguf_urls(event)
        if files:
            event.acceptProposedAction()
            self.files_dropped.emit(files)

    def _reveal(self) -> None:
        model = self.selected()
        if model is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(model.path.parent)))

    def _context_changed(self, _index: int) -> None:
        self._records.set_context(self.context.currentData())

    def _emit_selected(self, signal: SignalInstance) -> None:
        model = self.selected()
        if model is not None:
            signal.emit(model)

    def _load(self) -> None:
        model = self.selected()
        if model is not None:
            self.load_requested.emit(model)
