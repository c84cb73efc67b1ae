"""The main window: a navigation rail and its pages (Chat, Discover, My models, Compare), a status
bar; signals wired in one place."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QByteArray, QEvent
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QStackedWidget,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from desktop.app.chat_session import SettingsModes
from desktop.chats.store import Branching, Conversation, ConversationStore, Message, SearchHit
from desktop.db import StorageError
from desktop.engine.protocol import LoadOptions, ModelLoaded
from desktop.library.catalog import mark_used
from desktop.library.scan import LocalModel, describe_model
from desktop.settings import Settings
from desktop.ui.chat.actions import ChatActions
from desktop.ui.chat.controller import ChatController, model_label
from desktop.ui.chat.pane import ChatPane
from desktop.ui.chat.settings_dialog import ChatSettingsDialog
from desktop.ui.hub.actions import HubActions
from desktop.ui.hub.browser import HubBrowser
from desktop.ui.hub.discover_tab import DiscoverTab
from desktop.ui.hub.downloads import DownloadManager
from desktop.ui.library.actions import LibraryActions
from desktop.ui.library.library import Library
from desktop.ui.library.pane import LocalTab
from desktop.ui.shell.about import show_about
from desktop.ui.shell.context import AppContext
from desktop.ui.shell.engine_controller import EngineController, EngineState
from desktop.ui.shell.engine_settings_dialog import EngineSettingsDialog
from desktop.ui.shell.first_run import FirstRun
from desktop.ui.shell.jobs import JobRunner
from desktop.ui.shell.menus import MenuActions
from desktop.ui.shell.rail import Navigation, titled_page
from desktop.ui.shell.welcome import WelcomePage
from desktop.ui.shell.window_storage import WindowStorage
from desktop.ui.style.theme import apply_theme
from desktop.units import count_of, format_ms

if TYPE_CHECKING:  # both load when first opened (the compare tools bring pyqtgraph)
    from desktop.ui.compare.page import ComparePage
    from desktop.ui.library.quantize_dialog import QuantizeDialog
    from desktop.ui.server.controller import ServerController
    from desktop.ui.server.page import ServerPage


class MainWindow(QMainWindow):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("Hearth")
        self.setObjectName("mainWindow")
        self._select_after_refresh: str | None = None  # a new download, shown once listed
        self.message_after_refresh: str | None = None  # what a removal or import did, said once listed
        self._closed = False
        self.compare_page: ComparePage | None = None  # made when first opened
        self.server: ServerController | None = None  # made with the Server page
        self.server_page: ServerPage | None = None
        self.close_question: QMessageBox | None = None  # closing while the server is on
        self.tray: QSystemTrayIcon | None = None  # serving in the background

        self.storage = WindowStorage(self)
        self.storage_notices = self.storage.notices
        self.store = self.storage.open_history()
        self.engine = EngineController(self)
        self.library = Library(context.models_dir, self)
        self.hub = HubBrowser(self)
        self.downloads = DownloadManager(context.paths.downloads_file, self)
        modes = SettingsModes(context.settings_store, lambda s: self.storage.save_settings(s))
        self.chat = ChatController(self.store, self.engine, self, modes)
        self._jobs = JobRunner(self)
        self.library_actions = LibraryActions(self)
        self.hub_actions = HubActions(self)
        self.chat_actions = ChatActions(self)

        self.my_models = LocalTab(self.library.model)
        self.discover = DiscoverTab(self.hub.results, self.hub.quants, self.downloads.model)  # type: ignore[arg-type]
        self.chat_pane = ChatPane()
        self.navigation = Navigation()
        self.navigation.add("chat", self.chat_pane)
        self.navigation.add(
            "discover",
            titled_page(
                "Discover",
                "Open models on the Hugging Face Hub: pick the build that fits this computer.",
                self.discover,
            ),
        )
        self.navigation.add(
            "models",
            titled_page("My models", "The models on this computer, ready to chat with.", self.my_models),
        )
        self.navigation.add_later("compare", self._make_compare)
        self.navigation.add_later("server", self._make_server)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.storage_notices)
        self.welcome = WelcomePage()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.navigation)
        self.pages.addWidget(self.welcome)
        column.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.engine_status = QLabel(f"Engine: {EngineState.EMPTY.value}")
        self.engine_status.setAccessibleName("Engine status")
        self.load_progress = QProgressBar()
        self.load_progress.setAccessibleName("Loading the model")
        self.load_progress.setRange(0, 100)
        self.load_progress.setFixedWidth(140)
        self.load_progress.setFormat("Loading %p%")
        self.load_progress.hide()
        self.statusBar().addPermanentWidget(self.load_progress)
        self.statusBar().addPermanentWidget(self.engine_status)
        self.engine.set_idle_minutes(context.settings.unload_after_minutes)
        context.settings_store.subscribe(lambda s: self.engine.set_idle_minutes(s.unload_after_minutes))

        self.menu_actions = MenuActions(
            self, offline=context.settings.offline, theme=context.settings.theme, on_theme=self.set_theme
        )
        self.menu_actions.about.triggered.connect(lambda: show_about(self))
        self.menu_actions.add_sections(self.navigation.section_actions.values())
        self._connect_signals()
        self.first_run = FirstRun(self, self.welcome)
        self._restore_window()
        self.library.refresh()
        self.hub.show_starters()
        self.chat.open_latest(context.settings.last_conversation_id)
        self._conversations_changed()
        self.storage.window_built()

    # Construction

    def _connect_signals(self) -> None:
        local = self.my_models
        discover = self.discover
        pane = self.chat_pane

        self.menu_actions.new_chat.triggered.connect(self.chat.new_chat)
        self.menu_actions.refresh.triggered.connect(self.library.refresh)
        self.menu_actions.find.triggered.connect(self._focus_search)
        self.menu_actions.offline.toggled.connect(self.set_offline)
        self.menu_actions.token.triggered.connect(self.hub_actions.ask_token)

        local.load_requested.connect(self.load_model)
        local.refresh_requested.connect(self.library.refresh)
        actions = self.library_actions
        local.remove_requested.connect(actions.remove_model)
        local.verify_requested.connect(actions.verify)
        local.header_requested.connect(actions.read_header)
        local.files_dropped.connect(actions.import_files)
        self.menu_actions.import_file.triggered.connect(actions.choose_import)
        self.menu_actions.watch.triggered.connect(actions.choose_folder)
        self.library.refreshed.connect(self._library_refreshed)

        discover.search_requested.connect(
            lambda query, sort, author, narrowing: self.hub.search(
                query, sort, author=author, narrowing=narrowing
            )
        )
        discover.more_requested.connect(self.hub.load_more)
        self.hub.results_shown.connect(discover.show_results_note)
        discover.repo_requested.connect(self.hub.open_repo)
        discover.download_requested.connect(self.hub_actions.download)
        discover.open_requested.connect(self.load_path)
        discover.local_copy = self.hub_actions.local_copy
        self.hub.quants.on_disk = self.hub_actions.local_copy
        self.library.refreshed.connect(self.hub.quants.refresh_on_disk)
        discover.pause_requested.connect(self.downloads.pause)
        discover.resume_requested.connect(self.downloads.resume)
        discover.cancel_requested.connect(self.downloads.cancel)
        self.hub.busy_changed.connect(discover.set_busy)
        self.hub.error.connect(self.hub_actions.hub_error)
        self.hub.repo_opened.connect(self.hub_actions.repo_opened)
        self.hub.card_loaded.connect(discover.show_card)
        discover.lineage_requested.connect(self.hub.search_lineage)
        discover.context_chosen.connect(self.hub.set_context)
        self.hub.devices_found.connect(lambda available: setattr(discover, "available_bytes", available))
        self.hub.devices_found.connect(self.library.model.set_available)
        self.library.model.set_machine(self.hub.machine)
        self.hub.machine_changed.connect(self.library.model.set_machine)

        self.downloads.finished.connect(self.hub_actions.download_finished)
        self.downloads.failed.connect(self.hub_actions.download_failed)
        self.downloads.cancelled.connect(self.hub_actions.download_cancelled)

        self.engine.state_changed.connect(self._engine_state)
        self.engine.loaded.connect(self._model_loaded)
        self.engine.load_progress.connect(lambda f: self.load_progress.setValue(int(f * 100)))
        self.engine.idle_unloaded.connect(self._idle_unloaded)
        self.menu_actions.engine_settings.triggered.connect(self.edit_engine_settings)
        self.menu_actions.compare.triggered.connect(self.open_compare)
        self.menu_actions.make_quant.triggered.connect(self.make_quant)
        self.library.refreshed.connect(self._update_compare)
        self.menu_actions.unload.triggered.connect(self.unload_model)

        sidebar = pane.sidebar
        transcript = pane.transcript
        pane.send_requested.connect(self.chat.send)
        pane.edit_sent.connect(self.chat.edit)
        pane.stop_requested.connect(self.chat.stop)
        pane.new_chat_requested.connect(self.chat.new_chat)
        pane.load_last_model_requested.connect(self._load_conversation_model)
        pane.settings_requested.connect(self.edit_chat_settings)
        pane.notice_link.connect(self.chat.follow_link)
        pane.chat_list_toggled.connect(self._chat_list_toggled)
        pane.model_picker.chosen.connect(self.load_model)
        self.menu_actions.choose_model.triggered.connect(self._choose_model)
        pane.model_picker.set_source(self.library.model.records, self.library.model.fit_text)
        self.menu_actions.chat_list.toggled.connect(pane.show_chat_list)
        transcript.regenerate_requested.connect(self.chat.regenerate)
        transcript.branch_requested.connect(self.chat.show_branch)
        transcript.copied.connect(lambda what: self.statusBar().showMessage(what, 3000))
        sidebar.open_requested.connect(self._open_conversation)
        sidebar.search_changed.connect(self.search_chats)
        sidebar.rename_requested.connect(self.chat.rename)
        sidebar.delete_requested.connect(self.chat_actions.delete)
        sidebar.duplicate_requested.connect(self.chat.duplicate)
        sidebar.export_requested.connect(self.chat_actions.choose_export)
        self.menu_actions.regenerate.triggered.connect(lambda: self.chat.regenerate())
        self.menu_actions.chat_settings.triggered.connect(self.edit_chat_settings)
        self.menu_actions.search_chats.triggered.connect(sidebar.focus_search)
        self.menu_actions.copy_reply.triggered.connect(self.chat_actions.copy_last_reply)
        self.menu_actions.export_chat.triggered.connect(
            lambda: (
                self.chat_actions.choose_export(self.chat.conversation.id) if self.chat.conversation else None
            )
        )
        self.chat.conversation_shown.connect(self._conversation_shown)
        self.chat.conversations_changed.connect(self._conversations_changed)
        self.chat.user_message.connect(pane.show_user_message)
        self.chat.reply_started.connect(transcript.begin_reply)
        self.chat.reply_text.connect(transcript.append_reply)
        self.chat.reply_finished.connect(self._reply_finished)
        self.chat.notice.connect(pane.show_notice)
        self.chat.busy_changed.connect(pane.set_busy)
        self.chat.context_used.connect(pane.show_context)

    def _restore_window(self) -> None:
        s = self.context.settings
        if s.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(s.window_geometry.encode()))
        else:
            # First start: a comfortable size, never larger than most of the screen.
            screen = self.screen().availableGeometry()
            self.resize(min(1280, int(screen.width() * 0.9)), min(800, int(screen.height() * 0.9)))
        if s.window_state:
            self.restoreState(QByteArray.fromBase64(s.window_state.encode()))
        if s.chat_splitter_state:
            self.chat_pane.splitter.restoreState(QByteArray.fromBase64(s.chat_splitter_state.encode()))
        else:
            chat_width = self.width() - self.navigation.rail.width()
            side = max(220, min(300, chat_width // 5))
            self.chat_pane.splitter.setSizes([side, chat_width - side])
        self.chat_pane.show_chat_list(s.chat_list)
        if s.section != "chat" and s.section != "compare":  # Compare loads its charts when asked
            self.navigation.show_key(s.section)
        else:
            self.navigation.show_key("chat")
        self.chat_pane.compose.setFocus()  # where a person starts: the message box

    # Library and engine

    def load_model(self, model: LocalModel) -> None:
        if not model.ok:
            self.chat_pane.show_notice("error", f"{model.name} can't be loaded: {model.reason}.")
            return
        if self.chat.busy:
            self.chat.stop()
        self.navigation.show_key("chat")  # as the peers do: a model is loaded to chat with it
        self.chat_pane.set_model_status(f"Loading {model.name}…")
        self.load_progress.setValue(0)
        self.load_progress.show()
        self.engine.load(LoadOptions.from_settings(self.context.settings, str(model.path)))

    def load_path(self, path: Path) -> None:
        """Loads the model file at ``path``, as the library knows it where it does."""
        self.load_model(self.library.find(str(path)) or describe_model(path))

    def show_welcome(self, shown: bool) -> None:
        self.pages.setCurrentWidget(self.welcome if shown else self.navigation)

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)

    def _load_conversation_model(self) -> None:
        conversation = self.chat.conversation
        if conversation and conversation.model:
            self.load_path(Path(conversation.model))

    def _library_refreshed(self) -> None:
        records = self.library.model.records()
        self.chat_pane.transcript.know_names({str(m.path): m.model_name for m in records if m.model_name})
        if self._select_after_refresh:
            self.my_models.select_path(self._select_after_refresh)
            self._select_after_refresh = None
        if self.message_after_refresh:
            self.statusBar().showMessage(self.message_after_refresh, 6000)
            self.message_after_refresh = None
            self._offer_conversation_model()
            return
        count = self.library.model.rowCount()
        if not self.statusBar().currentMessage():  # a routine count never hides news being read
            self.statusBar().showMessage(f"{count_of(count, 'model')} in the library", 4000)
        self._offer_conversation_model()

    def edit_engine_settings(self) -> None:
        loaded = self.engine.model
        probed = self.hub.device_probe.done
        dialog = EngineSettingsDialog(
            self.context.settings,
            self,
            gpu_found=any(d.type == "gpu" for d in self.hub.devices) if probed else None,
            loaded=model_label(loaded.model_path) if loaded else None,
        )
        if dialog.exec():
            self.apply_engine_settings(dialog.chosen())
            if dialog.reload_requested and loaded is not None:
                self.load_path(Path(loaded.model_path))

    def apply_engine_settings(self, chosen: Settings) -> None:
        self.context.settings_store.replace(chosen)  # listeners (the idle timer) follow
        self.storage.save_settings(chosen)
        self.statusBar().showMessage("Engine settings saved: they apply the next time a model loads.", 5000)

    def unload_model(self) -> None:
        loading = self.engine.state == EngineState.LOADING  # a load is stopped with its worker
        if self.engine.model is None and not loading:
            return
        if self.chat.busy:
            self.chat.stop()
        self.engine.unload()
        self.statusBar().showMessage(
            "Loading stopped." if loading else "Model unloaded; its memory is returned.", 5000
        )

    def _idle_unloaded(self, info: ModelLoaded) -> None:
        minutes = self.context.settings.unload_after_minutes
        self.statusBar().showMessage(
            f"{model_label(info.model_path)} was unloaded after {minutes} idle minutes; Load brings it back.",
            10_000,
        )

    def _model_loaded(self, info: ModelLoaded) -> None:
        self._jobs.start(lambda: mark_used(Path(info.model_path)), lambda _r: None, lambda _e: None)
        name = model_label(info.model_path)
        self.chat_pane.set_model_status(
            f"{name} · {info.n_ctx:,} tokens context · {info.backend.upper()} · "
            f"loaded in {format_ms(info.load_ms)}"
        )
        self.chat_pane.offer_model(None)
        self.chat_pane.transcript.set_model_ready(True)
        self.chat_pane.model_picker.set_current(name)
        self.chat_pane.transcript.set_model_name(info.model_name, info.model_path)
        self.my_models.select_path(info.model_path)
        self.load_progress.hide()
        if info.load_note:  # under the chat's own notices (a template warning), never over them
            self.chat_pane.show_notice("info", info.load_note)

    def _engine_state(self, state: EngineState) -> None:
        self.engine_status.setText(f"Engine: {state.value}")
        self.load_progress.setVisible(state == EngineState.LOADING)
        self.menu_actions.unload.setEnabled(
            state in (EngineState.LOADING, EngineState.READY, EngineState.GENERATING)
        )
        if state in (EngineState.EMPTY, EngineState.FAILED):
            self.chat_pane.transcript.set_model_ready(False)
            self.chat_pane.model_picker.set_current(None)
            self.chat_pane.transcript.set_model_name(None)
            self.chat_pane.set_model_status(
                "The engine stopped. Load the model again to go on; your conversation is kept."
                if state == EngineState.FAILED
                else "No model loaded"
            )
            self._offer_conversation_model()

    def _offer_conversation_model(self) -> None:
        conversation = self.chat.conversation
        loaded = self.engine.model
        wanted = conversation.model if conversation else None
        show = wanted and Path(wanted).is_file() and (loaded is None or loaded.model_path != wanted)
        self.chat_pane.offer_model(
            model_label(wanted) if show and self.engine.state != EngineState.LOADING else None
        )

    # Chat

    def _conversation_shown(
        self, conversation: Conversation, messages: list[Message], branching: dict[int, Branching]
    ) -> None:
        self.chat_pane.show_conversation(conversation, messages, branching)
        self.context.settings.last_conversation_id = conversation.id
        self.chat_pane.sidebar.select(conversation.id)
        self._offer_conversation_model()

    def _choose_model(self) -> None:
        self.navigation.show_key("chat")
        self.chat_pane.model_picker.showMenu()

    def _chat_list_toggled(self, shown: bool) -> None:
        self.context.settings.chat_list = shown
        self.menu_actions.chat_list.setChecked(shown)
        if shown:
            self.navigation.show_key("chat")

    def _conversations_changed(self) -> None:
        current = self.chat.conversation
        self.chat_pane.sidebar.show_conversations(self.store.conversations(), current.id if current else None)
        if current is not None:
            self.chat_pane.title.setText(current.title)

    def _reply_finished(self, message: Message, branching: dict[int, Branching]) -> None:
        # The title (the first message names the chat) follows with conversations_changed.
        self.chat_pane.transcript.end_reply(message, branching)

    def _open_conversation(self, conversation_id: int, message_id: int, words: str) -> None:
        if self.chat.busy:
            self.statusBar().showMessage("Stop the reply first (Esc) to open another chat.", 4000)
            return
        if self.chat.conversation is None or self.chat.conversation.id != conversation_id:
            self.chat.open(conversation_id)
        if message_id:
            self.chat_pane.transcript.highlight(words.split(), message_id)

    def search_chats(self, text: str) -> None:
        """Searches in a worker thread, on its own connection: the window never waits on SQLite."""
        sidebar = self.chat_pane.sidebar
        if not text:
            self._conversations_changed()
            return
        path = self.context.paths.chats_db

        def search() -> list[SearchHit]:
            store = ConversationStore(path)
            try:
                return store.search(text)
            finally:
                store.close()

        def shown(hits: list[SearchHit]) -> None:
            if sidebar.search.text().strip() == text:  # not overtaken by newer typing
                sidebar.show_hits(hits)

        self._jobs.start(
            search, shown, lambda exc: self.statusBar().showMessage(f"Search failed: {exc}", 5000)
        )

    def chat_settings_dialog(self) -> ChatSettingsDialog:
        conversation = self.chat.conversation
        dialog = ChatSettingsDialog(
            conversation.system_prompt if conversation else "",
            self.chat.settings,
            self.chat.recommended,
            self.store.presets(),
            self,
        )
        dialog.preset_saved.connect(self.store.save_preset)
        dialog.preset_deleted.connect(self.store.delete_preset)
        return dialog

    def edit_chat_settings(self) -> None:
        dialog = self.chat_settings_dialog()
        if dialog.exec():
            self.chat.update_settings(dialog.chosen_system_prompt(), dialog.chosen_settings())

    # Hub and downloads

    def _focus_search(self) -> None:
        self.navigation.show_key("discover")
        self.discover.query.setFocus()
        self.discover.query.selectAll()

    def set_offline(self, offline: bool) -> None:
        self.hub_actions.set_offline(offline)

    def set_theme(self, mode: str) -> None:
        """System, Light or Dark, applied to every window at once and kept."""
        apply_theme(cast(QApplication, QApplication.instance()), mode)
        self.menu_actions.themes[mode].setChecked(True)
        self.context.settings.theme = mode
        self.storage.save_settings(self.context.settings)

    # Window

    def diagnostics(self) -> str:
        """Versions, devices, engine, settings and the log's last lines: for a bug report."""
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        from desktop.app.diagnostics import diagnostics_text

        return diagnostics_text(
            paths=self.context.paths,
            settings=self.context.settings,
            devices=self.hub.devices,
            engine_state=self.engine.state.value,
            model=self.engine.model,
            toolkit=f"PySide6 {pyside_version} (Qt {qVersion()})",
        )

    def copy_diagnostics(self) -> None:
        from PySide6.QtGui import QGuiApplication

        QGuiApplication.clipboard().setText(self.diagnostics())
        self.statusBar().showMessage("Diagnostics copied: paste them into a bug report.", 5000)

    def changeEvent(self, event: QEvent) -> None:
        # `hearth chat` may have written to the history meanwhile: show its chats on return.
        if (
            event.type() == QEvent.Type.ActivationChange
            and not self._closed
            and self.isActiveWindow()
            and not self.chat_pane.sidebar.search.text().strip()
        ):
            self._conversations_changed()
        super().changeEvent(event)

    def open_compare(self) -> ComparePage | None:
        """Shows the Compare page; None when the comparison history can't be used (a notice says why)."""
        return self.compare_page if self.navigation.show_key("compare") else None

    def _make_compare(self) -> QWidget | None:
        from desktop.ui.compare.page import ComparePage  # its charts load with it, not at start

        try:
            page = ComparePage(self.context.paths, self.context.settings_store)
        except StorageError as exc:
            self.storage.show(exc, "Compare is off until then.", self.open_compare)
            return None
        self.compare_page = page
        page.speed.run_saved.connect(lambda: self.hub.refresh_machine(probe=False))  # calibrates
        self._update_compare()
        return titled_page(
            "Compare", "Your models side by side, blind, and by speed and quality, measured here.", page
        )

    def _update_compare(self) -> None:
        if self.compare_page is not None:
            self.compare_page.set_library(self.library.model.records())
        if self.server_page is not None:
            self.server_page.set_library(self.library.model.records())

    def open_server(self) -> ServerPage | None:
        return self.server_page if self.navigation.show_key("server") else None

    def _make_server(self) -> QWidget:
        from desktop.ui.server.controller import ServerController
        from desktop.ui.server.page import ServerPage

        ctx = self.context
        self.server = ServerController(ctx.settings_store, ctx.paths, self.engine, ctx.server_launcher, self)
        self.server_page = ServerPage(self.server, ctx.settings_store, ctx.paths, self.storage.save_settings)
        self.server_page.set_library(self.library.model.records())
        return titled_page(
            "Server",
            "Your models for other programs: an OpenAI- and Ollama-compatible API on this computer.",
            self.server_page,
        )

    def _ask_before_closing_server(self) -> str:
        """Closing while the server is on: "background" (keep serving, window hidden, a tray
        icon to come back), "stop" (stop it and close) or "cancel"."""
        question = QMessageBox(
            QMessageBox.Icon.Question,
            "The server is on",
            "Other programs are using your models through Hearth's server. Keep serving them "
            "with the window closed, or stop the server?",
            parent=self,
        )
        background = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            background = question.addButton(
                "Keep serving in the background", QMessageBox.ButtonRole.AcceptRole
            )
        stop = question.addButton("Stop the server and quit", QMessageBox.ButtonRole.DestructiveRole)
        question.addButton(QMessageBox.StandardButton.Cancel)
        question.setDefaultButton(stop)
        self.close_question = question
        question.exec()
        self.close_question = None
        clicked = question.clickedButton()
        if background is not None and clicked is background:
            return "background"
        return "stop" if clicked is stop else "cancel"

    def _serve_in_background(self) -> None:
        from desktop.ui.server.background import tray_icon

        self.tray = tray_icon(self, on_show=self._show_from_tray, on_quit=self._quit_from_tray)
        self.tray.show()
        self.hide()

    def _show_from_tray(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()

    def _quit_from_tray(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.close()

    def make_quant(self) -> QuantizeDialog:
        from desktop.ui.library.quantize_dialog import QuantizeDialog

        dialog = QuantizeDialog(
            self.library.model.records(), self.context.models_dir, self.my_models.selected(), self
        )
        dialog.made.connect(lambda path: self.refresh_selecting(str(path)))
        dialog.open()
        return dialog

    def refresh_selecting(self, path: str) -> None:
        self._select_after_refresh = path
        self.library.refresh()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.server is not None and self.server.running is not None:
            answer = self._ask_before_closing_server()
            if answer != "stop":
                event.ignore()
                if answer == "background":
                    self._serve_in_background()
                return
            self.server.stop()
        if self.tray is not None:
            self.tray.hide()
        if self.compare_page is not None:
            self.compare_page.shutdown()
        s = self.context.settings
        s.window_geometry = bytes(self.saveGeometry().toBase64().data()).decode()
        s.window_state = bytes(self.saveState().toBase64().data()).decode()
        s.section = self.navigation.current_key()
        s.chat_splitter_state = bytes(self.chat_pane.splitter.saveState().toBase64().data()).decode()
        if self.chat.busy:
            self.chat.stop()
        self.downloads.shutdown()
        self.engine.shutdown()
        self.hub.shutdown()
        self.library_actions.shutdown()
        self.hub_actions.shutdown()
        self._jobs.wait()
        self.library.wait()
        self.storage.save_settings(s)
        self.store.close()
        self._closed = True
        super().closeEvent(event)
