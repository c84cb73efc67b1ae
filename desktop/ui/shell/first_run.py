"""The first run, from an empty library to a conversation: the welcome page's model downloaded
with its progress on the page, then loaded, then the chat with the cursor in the message box."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from desktop.app.first_run import FirstModel, first_model, found_elsewhere, wants_welcome
from desktop.engine.hardware import physical_cores
from desktop.engine.protocol import EngineError, ModelLoaded
from desktop.hub.download_queue import DownloadItem
from desktop.library.scan import describe_model
from desktop.ui.hub.downloads import status_text
from desktop.ui.shell.welcome import WelcomePage

if TYPE_CHECKING:
    from desktop.ui.shell.main_window import MainWindow


class FirstRun(QObject):
    def __init__(self, window: MainWindow, page: WelcomePage) -> None:
        super().__init__(window)
        self._window = window
        self.page = page
        self.model: FirstModel | None = None
        self._item: DownloadItem | None = None
        self._loading: str | None = None  # the downloaded model's path, while it loads
        self.dismissed = False
        self._ticker = QTimer(self)
        self._ticker.setInterval(200)
        self._ticker.timeout.connect(self._show_progress)
        page.download_requested.connect(self.download)
        page.pause_requested.connect(self._pause_or_resume)
        page.cancel_requested.connect(self._cancel)
        page.use_found_requested.connect(self._use_found)
        page.add_folder_requested.connect(window.library_actions.choose_folder)
        page.import_requested.connect(window.library_actions.choose_import)
        page.skip_requested.connect(self.finish)
        window.library.refreshed.connect(self._library_refreshed)
        window.downloads.finished.connect(self._downloaded)
        window.downloads.failed.connect(self._failed)
        window.downloads.cancelled.connect(lambda: self._ended("The download was cancelled."))
        window.engine.loaded.connect(self._loaded)
        window.engine.failed.connect(self._load_failed)

    @property
    def busy(self) -> bool:
        return self._item is not None or self._loading is not None

    def _library_refreshed(self) -> None:
        if self.dismissed or self.busy:
            return
        window = self._window
        models = window.library.model.records()
        if not wants_welcome(models, window.store.has_messages()):
            self.finish()
            return
        self.model = first_model(
            window.context.models_dir,
            window.hub.available_bytes,
            physical_cores(),
            window.hub.gpu_bytes,
            window.hub.machine,
        )
        self.page.show_model(self.model, offline=window.context.settings.offline)
        self.page.show_found(found_elsewhere(models))
        window.show_welcome(True)
        self.page.download_button.setFocus()

    def download(self) -> None:
        window = self._window
        self.model = first_model(  # the disk may have changed since the page was shown
            window.context.models_dir,
            window.hub.available_bytes,
            physical_cores(),
            window.hub.gpu_bytes,
            window.hub.machine,
        )
        self.page.show_model(self.model, offline=window.context.settings.offline)
        if self.model is None or not self.page.download_button.isEnabled():
            return
        starter = self.model.starter
        label = f"{starter.repo_id} · {starter.quant}"
        item = window.downloads.enqueue(starter.repo_id, starter.quant, label, starter.size_bytes)
        self._item = item or next(
            (
                i
                for i in window.downloads.queue.items
                if (i.repo_id, i.wanted) == (starter.repo_id, starter.quant)
            ),
            None,
        )
        self.page.show_progress(None, "Starting the download…", False)
        self._ticker.start()

    def _show_progress(self) -> None:
        item = self._item
        if item is not None:
            self.page.show_progress(item.fraction, status_text(item), item.state == "paused")

    def _pause_or_resume(self) -> None:
        item = self._item
        if item is not None:
            (self._window.downloads.resume if item.state == "paused" else self._window.downloads.pause)(item)
            self._show_progress()

    def _cancel(self) -> None:
        if self._item is not None:
            self._window.downloads.cancel(self._item)

    def _ended(self, words: str) -> None:
        if self._item is not None:
            self._item = None
            self._ticker.stop()
            self.page.show_idle(words)

    def _failed(self, message: str) -> None:
        self._ended(f"The download failed: {message} Press Download and chat to try again.")

    def _downloaded(self, path: str) -> None:
        if self._item is None:
            return
        self._item = None
        self._ticker.stop()
        self._loading = path
        self.page.show_progress(1.0, "Downloaded and verified. Loading the model…", False)
        self.page.pause_button.hide()
        self.page.cancel_button.hide()
        self._window.load_model(self._window.library.find(path) or describe_model(Path(path)))

    def _loaded(self, info: ModelLoaded) -> None:
        if self._loading is not None and info.model_path == self._loading:
            self._loading = None
            self.finish()
            self._window.chat.new_chat()
            self._window.chat_pane.compose.setFocus()

    def _load_failed(self, error: EngineError) -> None:
        if self._loading is not None:
            self._loading = None
            self.page.show_idle(error.message)

    def _use_found(self) -> None:
        self.finish()
        self._window.navigation.show_key("models")

    def finish(self) -> None:
        """The welcome is over: the window's pages from now on."""
        self.dismissed = True
        self._window.show_welcome(False)
