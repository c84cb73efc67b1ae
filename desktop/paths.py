"""Hearth's own locations.

Everything Hearth writes lives under the platformdirs folders, or under one folder when
``HEARTH_HOME`` is set (tests and portable installs use it). Other apps' folders are not
here: they belong to the library's discovery code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Hearth"


@dataclass(frozen=True)
class HearthPaths:
    data_dir: Path
    config_dir: Path
    log_dir: Path
    cache_dir: Path

    @property
    def default_models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def staging_dir(self) -> Path:
        """Downloads land here first; the library never lists it."""
        return self.data_dir / "staging"

    @property
    def chats_db(self) -> Path:
        return self.data_dir / "chats.sqlite3"

    @property
    def compare_db(self) -> Path:
        """Speed and quality runs, saved comparisons and arena votes."""
        return self.data_dir / "compare.sqlite3"

    @property
    def library_db(self) -> Path:
        """Where downloaded models came from and the sha256 they were verified against."""
        return self.data_dir / "library.sqlite3"

    @property
    def header_cache_db(self) -> Path:
        """Parsed GGUF headers, so a rescan or a load does not parse a file again (rebuilt if lost)."""
        return self.cache_dir / "headers.sqlite3"

    @property
    def downloads_file(self) -> Path:
        """The download queue, so paused and unfinished downloads survive a restart."""
        return self.data_dir / "downloads.json"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "hearth.log"


def hearth_paths() -> HearthPaths:
    """Read the environment each call, so a test can redirect HEARTH_HOME at any time."""
    home = os.environ.get("HEARTH_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return HearthPaths(
            data_dir=root / "data",
            config_dir=root / "config",
            log_dir=root / "logs",
            cache_dir=root / "cache",
        )
    return HearthPaths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
    )
