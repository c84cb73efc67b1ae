"""The Server page: switch the local API on, see where to reach it, which models it serves and
each request as it is answered, and copy a snippet for curl, Python or an editor.

A thin front: the ServerController starts and stops the server; the settings store keeps the
port, network and CORS choices; desktop/app/api_key.py keeps the key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.app.api_key import forget_key, new_key, read_key
from desktop.app.request_log import RequestLog
from desktop.app.server_snippets import snippets
from desktop.library.scan import LocalModel
from desktop.paths import HearthPaths
from desktop.settings import Settings, SettingsStore
from desktop.ui.server.controller import ServerController
from desktop.ui.style.icons import icon
from desktop.ui.style.tokens import SPACING
from desktop.ui.widgets.record_table import record_table, selected_record
from desktop.ui.widgets.table_model import RecordTableModel, TableColumn
from desktop.units import format_bytes

MAX_LOG_ROWS = 1000  # the oldest go first: a day of requests need not stay in memory


def _log_columns() -> list[TableColumn[RequestLog]]:
    def tokens(r: RequestLog) -> str:
        if r.prompt_tokens is None or r.completion_tokens is None:
            return ""
        return f"{r.prompt_tokens} + {r.completion_tokens}"

    return [  # the first column takes the width left: the request, what a person scans for
        TableColumn("Request", lambda r: f"{r.method} {r.path}"),
        TableColumn("Model", lambda r: r.model or ""),
        TableColumn(
            "Tokens",
            tokens,
            lambda r: r.completion_tokens or 0,
            numeric=True,
            header_tooltip="Prompt + reply tokens",
        ),
        TableColumn("Tok/s", lambda r: f"{r.tps:.1f}" if r.tps else "", lambda r: r.tps or 0.0, numeric=True),
        TableColumn(
            "Status", lambda r: str(r.status), lambda r: r.status, numeric=True, tooltip=lambda r: r.note
        ),
        TableColumn("Client", lambda r: _host_of(r.client), tooltip=lambda r: r.client),
        TableColumn("Time", lambda r: time.strftime("%H:%M:%S", time.localtime(r.wall_time))),
    ]


def _host_of(client: str) -> str:
    """ "127.0.0.1:52144" → "127.0.0.1": the port a client happened to use says nothing."""
    host, sep, port = client.rpartition(":")
    return host if sep and port.isdigit() else client


def _model_columns() -> list[TableColumn[LocalModel]]:
    return [
        TableColumn("Model", lambda m: m.name, tooltip=lambda m: str(m.path)),
        TableColumn("Name in requests", lambda m: m.id, header_tooltip='The "model" a request gives'),
        TableColumn("Size", lambda m: format_bytes(m.size_bytes), lambda m: m.size_bytes, numeric=True),
    ]


class KeyDialog(QDialog):
    """A new API key, shown this once with a Copy button."""

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Your server's API key")
        layout = QVBoxLayout(self)
        note = QLabel(
            "Programs send this key as “Authorization: Bearer <key>”. It is shown only now: copy "
            "it into the programs that need it. Hearth keeps it in a file only you can read; "
            "a new key replaces it."
        )
        note.setWordWrap(True)
        self.key = QLineEdit(key)
        self.key.setReadOnly(True)
        self.key.setAccessibleName("API key")
        self.key.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.key.setMinimumWidth(self.key.fontMetrics().horizontalAdvance(key) + 24)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setIcon(icon("copy"))
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(key))
        buttons.rejected.connect(self.reject)
        layout.addWidget(note)
        layout.addWidget(self.key)
        layout.addWidget(buttons)


class ServerPage(QWidget):
    def __init__(
        self,
        controller: ServerController,
        settings: SettingsStore,
        paths: HearthPaths,
        save: Callable[[Settings], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self._settings = settings
        self._paths = paths
        self._persist = save
        self._has_key = read_key(paths) is not None  # the key file is read once, and kept in step below
        self.key_dialog: KeyDialog | None = None

        self.switch = QPushButton()
        self.switch.setObjectName("primaryButton")
        self.switch.setIcon(icon("play", "#ffffff"))
        self.switch.setAccessibleName("Server on or off")
        self.switch.clicked.connect(self._toggle)
        self.status = QLabel()
        self.status.setAccessibleName("Server status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setWordWrap(True)
        self.copy_address = QPushButton(icon("copy"), "Copy address")
        self.copy_address.setAccessibleName("Copy the server's address")
        self.copy_address.clicked.connect(self._copy_address)
        top = QHBoxLayout()
        top.addWidget(self.switch)
        top.addWidget(self.status, 1)
        top.addWidget(self.copy_address)

        self.port = QSpinBox()
        self.port.setRange(1024, 65535)
        self.port.setAccessibleName("Port")
        self.port.setToolTip("5151 by default: LM Studio uses 1234, Ollama 11434, llama-server 8080")
        self.lan = QCheckBox("Let other devices on this network connect (needs the API key)")
        self.lan.setAccessibleName("Let other devices on this network connect")
        self.key_state = QLabel()
        self.new_key_button = QPushButton("New key…")
        self.new_key_button.setAccessibleName("Make a new API key")
        self.new_key_button.clicked.connect(self._make_key)
        self.forget_key_button = QPushButton("Remove")
        self.forget_key_button.setAccessibleName("Remove the API key")
        self.forget_key_button.clicked.connect(self._forget_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_state, 1)
        key_row.addWidget(self.new_key_button)
        key_row.addWidget(self.forget_key_button)
        self.cors = QLineEdit()
        self.cors.setAccessibleName("Web pages allowed to call the server")
        self.cors.setPlaceholderText("none: web pages cannot call it (e.g. http://localhost:3000)")
        self.settings_hint = QLabel("Stop the server to change these.")
        self.settings_hint.setObjectName("hint")
        form = QFormLayout()
        form.addRow("Port", self.port)
        form.addRow("", self.lan)
        form.addRow("API key", key_row)
        form.addRow("Web origins", self.cors)
        form.addRow("", self.settings_hint)
        settings_box = QGroupBox("Settings")
        settings_box.setLayout(form)
        self.port.valueChanged.connect(lambda v: self._save(server_port=int(v)))
        self.lan.toggled.connect(self._lan_toggled)
        self.cors.editingFinished.connect(self._cors_edited)

        self.models_model: RecordTableModel[LocalModel] = RecordTableModel(_model_columns(), self)
        self.models_view = record_table(self.models_model, "Models the server offers")  # type: ignore[arg-type]
        self.models_view.selectionModel().selectionChanged.connect(lambda *_: self._show_snippets())
        models_box = QGroupBox("Models it serves")
        models_layout = QVBoxLayout(models_box)
        models_layout.addWidget(self.models_view)

        self.snippet_tabs = QTabWidget()
        self.snippet_tabs.setAccessibleName("Ways to call the server")
        self.snippet_views: list[QPlainTextEdit] = []
        self.copy_snippet = QPushButton(icon("copy"), "Copy")
        self.copy_snippet.setAccessibleName("Copy this snippet")
        self.copy_snippet.clicked.connect(self._copy_snippet)
        use_box = QGroupBox("Use it from")
        use_layout = QVBoxLayout(use_box)
        use_layout.addWidget(self.snippet_tabs)
        use_layout.addWidget(self.copy_snippet, 0, Qt.AlignmentFlag.AlignRight)

        self.log_model: RecordTableModel[RequestLog] = RecordTableModel(_log_columns(), self)
        self.log_view = record_table(self.log_model, "Requests answered")  # type: ignore[arg-type]
        log_box = QGroupBox("Requests")
        log_layout = QVBoxLayout(log_box)
        log_layout.addWidget(self.log_view)

        grid = QGridLayout()
        grid.setSpacing(SPACING["m"])
        grid.addWidget(settings_box, 0, 0)
        grid.addWidget(models_box, 1, 0)
        grid.addWidget(use_box, 0, 1)
        grid.addWidget(log_box, 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACING["m"])
        layout.addLayout(top)
        layout.addLayout(grid, 1)

        controller.changed.connect(self._show_state)
        controller.logged.connect(self._logged)
        self._load_settings(settings.current)
        self._show_state()

    # Settings

    def _load_settings(self, s: Settings) -> None:
        self.port.blockSignals(True)
        self.port.setValue(s.server_port)
        self.port.blockSignals(False)
        self.lan.blockSignals(True)
        self.lan.setChecked(s.server_lan)
        self.lan.blockSignals(False)
        self.cors.setText(", ".join(s.server_cors_origins))

    def _save(self, **changes: Any) -> None:
        chosen = replace(self._settings.current, **changes)
        self._settings.replace(chosen)
        self._persist(chosen)

    def _lan_toggled(self, on: bool) -> None:
        if on and not self._has_key and not self._make_key():
            self.lan.setChecked(False)  # no key could be kept: stay on this computer
            return
        self._save(server_lan=on)

    def _cors_edited(self) -> None:
        origins = [o.strip().rstrip("/") for o in self.cors.text().replace(" ", ",").split(",") if o.strip()]
        self._save(server_cors_origins=origins)
        self.cors.setText(", ".join(origins))

    def _make_key(self) -> bool:
        try:
            key = new_key(self._paths)
        except OSError as exc:
            self.status.setText(f"The API key could not be kept: {exc.strerror or exc}")
            return False
        self._has_key = True
        self.key_dialog = KeyDialog(key, self)
        self.key_dialog.open()
        self._show_state()
        return True

    def _forget_key(self) -> None:
        forget_key(self._paths)
        self._has_key = False
        if self.lan.isChecked():
            self.lan.setChecked(False)  # off this computer a key is required
        self._show_state()

    # State

    def _show_state(self) -> None:
        running = self.controller.running
        has_key = self._has_key
        self.key_state.setText("Set (kept in a file only you can read)" if has_key else "None")
        self.forget_key_button.setEnabled(has_key and running is None)
        for widget in (self.port, self.lan, self.cors, self.new_key_button):
            widget.setEnabled(running is None)
        self.settings_hint.setVisible(running is not None)
        self.copy_address.setEnabled(running is not None)
        if not self.controller.available:
            self.switch.setEnabled(False)
            self.switch.setText("Start server")
            self.status.setText("This copy of Hearth was built without its server.")
        elif running is None:
            self.switch.setText("Start server")
            self.switch.setIcon(icon("play", "#ffffff"))
            why = self.controller.error
            self.status.setText(
                f"Could not start: {why}" if why else "Off: other programs cannot reach your models."
            )
        else:
            self.switch.setText("Stop server")
            self.switch.setIcon(icon("stop", "#ffffff"))
            where = "this network" if self.lan.isChecked() else "this computer"
            self.status.setText(f"On at {running.url} (programs on {where} can connect)")
        self._show_snippets()

    def _toggle(self) -> None:
        if self.controller.running is None:
            self._cors_edited()
            self.controller.start()
        else:
            self.controller.stop()

    def address(self) -> str:
        running = self.controller.running
        return running.url if running is not None else self.controller.config().url

    def _copy_address(self) -> None:
        QGuiApplication.clipboard().setText(self.address() + "/v1")

    # Models, snippets and the log

    def set_library(self, models: list[LocalModel]) -> None:
        self.models_model.set_records([m for m in models if m.ok])
        self._show_snippets()

    def _snippet_model(self) -> str:
        chosen = selected_record(self.models_view)
        if isinstance(chosen, LocalModel):
            return chosen.id
        first = self.models_model.record(0)
        return first.id if first is not None else "MODEL-ID"

    def _show_snippets(self) -> None:
        shown = snippets(self.address(), self._snippet_model(), needs_key=self._has_key)
        current = self.snippet_tabs.currentIndex()
        while len(self.snippet_views) < len(shown):
            view = QPlainTextEdit()
            view.setReadOnly(True)
            view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            self.snippet_views.append(view)
            self.snippet_tabs.addTab(view, "")
        for i, (view, snippet) in enumerate(zip(self.snippet_views, shown, strict=True)):
            self.snippet_tabs.setTabText(i, snippet.title)
            view.setAccessibleName(f"{snippet.title} snippet")
            if view.toPlainText() != snippet.text:
                view.setPlainText(snippet.text)
        self.snippet_tabs.setCurrentIndex(max(0, current))

    def _copy_snippet(self) -> None:
        view = self.snippet_views[self.snippet_tabs.currentIndex()]
        QGuiApplication.clipboard().setText(view.toPlainText())

    def _logged(self, record: RequestLog) -> None:
        if self.log_model.rowCount() >= MAX_LOG_ROWS:
            self.log_model.set_records(self.log_model.records()[-MAX_LOG_ROWS // 2 :])
        self.log_model.append_records([record])
        self.log_view.scrollToBottom()
