"""One typed, versioned settings record, loaded and saved in one place."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from desktop.db import StorageError
from desktop.json_file import read_json, write_json
from desktop.paths import HearthPaths, hearth_paths

SCHEMA_VERSION = 2
log = logging.getLogger(__name__)


@dataclass
class Settings:
    schema_version: int = SCHEMA_VERSION
    # None means the default folder under Hearth's data directory.
    models_dir: str | None = None
    context_length: int = 4096
    # Offline: Hearth opens no network connection at all (the Hub browser says so).
    offline: bool = False
    theme: str = "system"  # "system" (the desktop's light or dark), "light" or "dark"
    # The mode a person chose for a model ("chat" or "notebook"), by its path: new chats start in it.
    model_modes: dict[str, str] = field(default_factory=dict)
    # Folders the person added; their GGUF files are listed in place.
    watched_folders: list[str] = field(default_factory=list)
    threads: int | None = None
    # How models load (the engine settings dialog). Context 0: the trained length, capped
    # to what fits in memory; GPU layers -2: fitted to free VRAM, -1: all.
    load_context: int = 0
    gpu_layers: int = -2
    batch_size: int = 2048
    ubatch_size: int = 512
    flash_attn: bool = True
    kv_type: str = "f16"
    use_mmap: bool = True
    use_mlock: bool = False
    unload_after_minutes: int = 0  # 0: keep the model loaded
    server_queue_length: int = 16  # requests that may wait for one model; more get a 429
    # The window's Server page (the key itself is kept apart: desktop/app/api_key.py).
    server_port: int = 5151
    server_lan: bool = False  # listen on every interface (needs the API key), not only this computer
    server_cors_origins: list[str] = field(default_factory=list)
    last_conversation_id: int | None = None
    # Window geometry and splitter state as base64 text, written by the UI.
    window_geometry: str | None = None
    window_state: str | None = None
    section: str = "chat"  # the page shown last: chat, discover, models, compare or server
    chat_list: bool = True  # the list of chats shown beside the conversation
    chat_splitter_state: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def resolved_models_dir(self, paths: HearthPaths | None = None) -> Path:
        if self.models_dir:
            return Path(self.models_dir).expanduser()
        return (paths or hearth_paths()).default_models_dir


LABEL = "settings"


def settings_problem(paths: HearthPaths | None = None) -> StorageError | None:
    """Why the settings file can't be used (Hearth then runs on defaults and never saves over it)."""
    try:
        read_json((paths or hearth_paths()).settings_file, LABEL, dict)
    except StorageError as exc:
        return exc
    return None


def load_settings(paths: HearthPaths | None = None) -> Settings:
    """Unknown keys are dropped and a damaged file gives defaults: settings never stop Hearth
    starting (``settings_problem`` says why, and ``save_settings`` leaves such a file alone)."""
    file = (paths or hearth_paths()).settings_file
    try:
        raw = read_json(file, LABEL, dict)
    except StorageError as exc:
        log.warning("%s", exc)
        return Settings()
    if raw is None:
        return Settings()
    known = {f.name for f in fields(Settings)}
    values = {k: v for k, v in raw.items() if k in known}
    if raw.get("schema_version", 1) < 2 and values.get("batch_size") == 512 and not values.get("flash_attn"):
        # Version 1's engine defaults, never changed by the person: version 2's faster ones.
        values.update(batch_size=Settings.batch_size, flash_attn=Settings.flash_attn)
    values["schema_version"] = SCHEMA_VERSION
    try:
        return Settings(**values)
    except TypeError:
        return Settings()


def save_settings(settings: Settings, paths: HearthPaths | None = None) -> None:
    """Atomic; raises StorageError (the old file kept) on a full or read-only disk, or when the
    file there could not be read."""
    write_json((paths or hearth_paths()).settings_file, asdict(settings), LABEL, dict)


class SettingsStore:
    """The running app's one settings record. Whoever keeps a part of the app alive across a
    change (the compare window's engines, the engine's idle timer) reads ``current`` when it
    acts, or subscribes: a change replaces the record and tells every listener."""

    def __init__(self, settings: Settings) -> None:
        self._current = settings
        self._listeners: list[Callable[[Settings], None]] = []

    @property
    def current(self) -> Settings:
        return self._current

    def replace(self, settings: Settings) -> None:
        self._current = settings
        for listener in list(self._listeners):
            listener(settings)

    def subscribe(self, listener: Callable[[Settings], None]) -> Callable[[], None]:
        """Calls ``listener`` with each new record; returns what ends that."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None
