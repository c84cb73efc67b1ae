"""What every part of the window shares: where files live and the one settings store."""

from __future__ import annotations

from pathlib import Path

from desktop.paths import HearthPaths
from desktop.settings import Settings, SettingsStore


class AppContext:
    def __init__(self, paths: HearthPaths, settings: Settings) -> None:
        self.paths = paths
        self.settings_store = SettingsStore(settings)

    @property
    def settings(self) -> Settings:
        return self.settings_store.current

    @property
    def models_dir(self) -> Path:
        return self.settings.resolved_models_dir(self.paths)
