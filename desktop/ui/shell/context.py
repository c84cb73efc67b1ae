"""What every part of the window shares: where files live and the one settings store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from desktop.paths import HearthPaths
from desktop.settings import Settings, SettingsStore

if TYPE_CHECKING:
    from desktop.app.server_config import ServerLauncher


class AppContext:
    def __init__(
        self, paths: HearthPaths, settings: Settings, server_launcher: ServerLauncher | None = None
    ) -> None:
        self.paths = paths
        self.settings_store = SettingsStore(settings)
        # Starts the local API server (handed in by the program's entry point); None: no server.
        self.server_launcher = server_launcher

    @property
    def settings(self) -> Settings:
        return self.settings_store.current

    @property
    def models_dir(self) -> Path:
        return self.settings.resolved_models_dir(self.paths)
