"""The server as the window runs it: started and stopped from the Server page, its request log
as a signal, and the window's own worker lent for the model the window has loaded."""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, Signal

from desktop.app.api_key import read_key
from desktop.app.engine_host import EngineState, LentReply
from desktop.app.model_service import ModelService
from desktop.app.served_models import ModelDirectory
from desktop.app.server_config import RunningServer, ServeFailed, ServerConfig, ServerLauncher
from desktop.engine.protocol import ChatMessage, ModelLoaded, Sampling
from desktop.library.catalog import scan_library
from desktop.paths import HearthPaths
from desktop.settings import SettingsStore
from desktop.ui.shell.engine_controller import EngineController

LAN_HOST = "0.0.0.0"
LOCAL_HOST = "127.0.0.1"


class WindowEngine:
    """The window's engine as the serving core borrows it (desktop/app/shared_engine.py):
    called on the server's threads, done on the GUI thread."""

    def __init__(self, engine: EngineController) -> None:
        self._engine = engine

    def loaded(self) -> ModelLoaded | None:
        busy_or_ready = (EngineState.READY, EngineState.GENERATING, EngineState.SERVING)
        model = self._engine.model
        return model if model is not None and self._engine.state in busy_or_ready else None

    def lend(
        self, messages: list[ChatMessage], sampling: Sampling, *, mode: str, stop: tuple[str, ...]
    ) -> LentReply | None:
        return self._engine.on_gui_thread(lambda: self._engine.lend(messages, sampling, mode=mode, stop=stop))

    def cancel(self, request_id: str) -> None:
        self._engine.on_gui_thread(lambda: self._engine.cancel_lent(request_id))


class ServerController(QObject):
    changed = Signal()  # started, stopped, or failed to start (``error`` says why)
    logged = Signal(object)  # RequestLog, one a request, from the server's threads

    def __init__(
        self,
        settings: SettingsStore,
        paths: HearthPaths,
        engine: EngineController,
        launcher: ServerLauncher | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._paths = paths
        self._engine = engine
        self._launcher = launcher
        self.running: RunningServer | None = None
        self.service: ModelService | None = None
        self.error: str | None = None

    @property
    def available(self) -> bool:
        """False in a copy of Hearth started without its server (the page says so)."""
        return self._launcher is not None

    def config(self) -> ServerConfig:
        s = self._settings.current
        minutes = s.unload_after_minutes
        return ServerConfig(
            host=LAN_HOST if s.server_lan else LOCAL_HOST,
            port=s.server_port,
            api_key=read_key(self._paths),
            cors_origins=tuple(s.server_cors_origins),
            idle_unload_s=minutes * 60 if minutes > 0 else math.inf,
            queue_length=s.server_queue_length,
        )

    def start(self) -> bool:
        """Starts listening; False with ``error`` in words when it cannot."""
        if self.running is not None or self._launcher is None:
            return self.running is not None
        config = self.config()
        refusal = config.refusal()
        if refusal:
            return self._failed(refusal)
        service = ModelService(
            self._settings.current,
            ModelDirectory(scan_library),
            queue_length=config.queue_length,
            idle_unload_s=config.idle_unload_s,
            shared=WindowEngine(self._engine),
        )
        try:
            self.running = self._launcher(service, config, self.logged.emit)
        except ServeFailed as exc:
            service.close()
            return self._failed(str(exc))
        self.service, self.error = service, None
        self.changed.emit()
        return True

    def _failed(self, why: str) -> bool:
        self.error = why
        self.changed.emit()
        return False

    def stop(self) -> None:
        if self.running is None:
            return
        running, self.running, self.service = self.running, None, None
        running.stop()
        self.changed.emit()
