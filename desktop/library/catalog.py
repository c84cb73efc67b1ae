"""The whole library: Hearth's folder and other apps' folders, with a header cache and a hidden list.

Headers are cached by path, size and modification time, so a rescan with nothing changed
reads no file. Models found in another app's folder are hidden, not deleted, unless the
person asks for the file to go.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

from desktop.clock import utc_stamp
from desktop.db import Database, StorageError, problem_to_json
from desktop.gguf.header_cache import HeaderCache
from desktop.library.library_db import open_library
from desktop.library.scan import LocalModel, describe_model, model_files, scan_models_dir
from desktop.library.sources import find_other_apps
from desktop.paths import HearthPaths, hearth_paths
from desktop.settings import Settings, load_settings


class Catalog:
    def __init__(
        self, paths: HearthPaths | None = None, settings: Settings | None = None, *, tolerant: bool = False
    ) -> None:
        """Raises StorageError (the file untouched) when library.sqlite3 can't be used; ``tolerant``:
        the library is listed without it (no hidden or used list, no header cache), and
        ``problem`` says why."""
        self.paths = paths or hearth_paths()
        self.settings = settings or load_settings(self.paths)
        self.problem: StorageError | None = None
        self._db: Database | None = None
        try:
            self._db = open_library(self.paths.library_db)
        except StorageError as exc:
            if not tolerant:
                raise
            self.problem = exc
        self.headers = HeaderCache.open_or_none(self.paths.header_cache_db)

    def close(self) -> None:
        self.headers.close()
        if self._db is not None:
            self._db.close()

    def _open_db(self) -> Database:
        if self._db is None:
            assert self.problem is not None
            raise self.problem
        return self._db

    # Hidden models

    def hide(self, path: Path) -> None:
        self._open_db().execute("INSERT OR IGNORE INTO hidden VALUES (?)", (str(path),))

    def hidden(self) -> set[str]:
        if self._db is None:
            return set()
        return {row[0] for row in self._db.rows("SELECT path FROM hidden")}

    # When each model was last loaded

    def mark_used(self, path: Path) -> None:
        self._open_db().execute("INSERT OR REPLACE INTO used VALUES (?, ?)", (str(path), utc_stamp()))

    def last_used(self) -> dict[str, str]:
        if self._db is None:
            return {}
        return {row[0]: row[1] for row in self._db.rows("SELECT path, at FROM used")}

    # The library

    def scan(self) -> list[LocalModel]:
        models_dir = self.settings.resolved_models_dir(self.paths)
        own = scan_models_dir(models_dir, read=self.headers.read)
        watched = [Path(p).expanduser() for p in self.settings.watched_folders]
        others = [
            describe_model(f.path, source=f.source, name=f.name, repo_id=f.repo_id, read=self.headers.read)
            for f in find_other_apps(watched)
        ]
        hidden = self.hidden()
        used = self.last_used()
        seen: set[Path] = set()
        models: list[LocalModel] = []
        for model in [*own, *others]:
            real = model.path.resolve()
            if real in seen or str(model.path) in hidden:
                continue  # one file reached by two paths is one model
            seen.add(real)
            models.append(replace(model, last_used=used.get(str(model.path))))
        return _with_copies(models)


def _with_copies(models: list[LocalModel]) -> list[LocalModel]:
    """Marks files that look like one another (same name, same size) in other places: the same
    download kept by two apps, listed twice, is then said to be, without reading gigabytes."""
    alike: dict[tuple[str, int], list[LocalModel]] = {}
    for model in models:
        alike.setdefault((model.path.name.lower(), model.size_bytes), []).append(model)
    return [
        replace(
            model,
            copies_in=tuple(
                other.source
                for other in alike[(model.path.name.lower(), model.size_bytes)]
                if other.path != model.path
            ),
        )
        for model in models
    ]


def mark_used(path: Path) -> None:
    catalog = Catalog()
    try:
        catalog.mark_used(path)
    finally:
        catalog.close()


SCAN_SUBCOMMAND = "_scan"


def scan_child_main() -> int:
    """``hearth _scan``: the library as JSON on stdout, for the GUI.

    The window scans in a process of its own: a scan is Python work, and on a two-core
    machine a thread doing it competes with the window for the interpreter lock.
    """
    import sys

    catalog = Catalog(tolerant=True)  # a damaged library list must not empty the window's library
    try:
        models = catalog.scan()
    finally:
        catalog.close()
    paths = catalog.paths
    folders = folders_to_watch(catalog.settings.resolved_models_dir(paths), models)
    out: dict[str, object] = {"models": [m.to_json() for m in models], "folders": folders}
    if catalog.problem is not None:
        out["storage_problem"] = problem_to_json(catalog.problem)
    json.dump(out, sys.stdout)
    return 0


MAX_WATCHED_FOLDERS = 2000


def folders_to_watch(models_dir: Path, models: list[LocalModel]) -> list[str]:
    """Hearth's models folder and its sub-folders, and the folder of every model elsewhere."""
    folders: set[str] = set()
    if models_dir.is_dir():
        for root, dirs, _files in os.walk(models_dir):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            folders.add(root)
            if len(folders) >= MAX_WATCHED_FOLDERS:
                break
    folders.update(str(m.path.parent) for m in models)
    return sorted(folders)[:MAX_WATCHED_FOLDERS]


def scan_library() -> list[LocalModel]:
    catalog = Catalog()
    try:
        return catalog.scan()
    finally:
        catalog.close()


def remove_model(model: LocalModel, *, delete_file: bool = False) -> tuple[str, int]:
    """Delete what Hearth owns (or, when asked, another app's file); otherwise hide it.

    Returns the action taken ("deleted" or "hidden") and the bytes freed.
    """
    if model.source == "hearth" or delete_file:
        files = model_files(model)
        freed = sum(f.stat().st_size for f in files)
        for file in files:
            file.unlink()
        return "deleted", freed
    catalog = Catalog()
    try:
        catalog.hide(model.path)
    finally:
        catalog.close()
    return "hidden", 0
