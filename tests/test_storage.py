"""Damaged, foreign, locked, read-only and full storage: each of Hearth's files, through the CLI.

Every case ends in one ``error: …`` line that names the file and says what to do, exit 1,
and leaves the file's bytes as they were. A full or read-only disk is a real small file
system (tmpfs, remounted read-only) that the file is linked into; a lock is another process
holding ``BEGIN EXCLUSIVE``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop.chats.store import ConversationStore
from desktop.compare.results import CompareStore
from desktop.db import StorageError, move_aside
from desktop.hub.download_queue import DownloadItem, load_queue, save_queue
from desktop.library.catalog import Catalog
from desktop.library.library_db import LIBRARY_SCHEMA, open_library
from desktop.paths import hearth_paths
from desktop.settings import Settings, load_settings, save_settings
from tests.test_cli import hearth


def make_chats(path: Path) -> None:
    store = ConversationStore(path)
    for n in range(20):
        chat = store.create_conversation(model=None, title=f"Chat {n}")
        store.add_message(chat.id, "user", "words " * 200)
    store.close()


def make_library(path: Path) -> None:
    db = open_library(path)
    for n in range(300):
        db.execute("INSERT INTO hidden VALUES (?)", (f"/models/{n}/" + "x" * 100,))
    db.close()


def make_compare(path: Path) -> None:
    store = CompareStore(path)
    for n in range(30):
        store.add_run(
            "bench", {"cpu": "test"}, {"reps": n}, [("/m.gguf", "m", "Q8_0", 1, {"pp": [1.0] * 50})]
        )
    store.close()


MAKERS: dict[str, Callable[[Path], None]] = {
    "chats": make_chats,
    "library": make_library,
    "compare": make_compare,
}


def db_path(kind: str) -> Path:
    paths = hearth_paths()
    return {"chats": paths.chats_db, "library": paths.library_db, "compare": paths.compare_db}[kind]


def reading_command(kind: str, model: Path) -> list[str]:
    return {"chats": ["chats"], "library": ["list"], "compare": ["bench", str(model)]}[kind]


def run_writing(kind: str, model: Path) -> subprocess.CompletedProcess[str]:
    """A command that writes to the ``kind`` database (``hearth rm`` on a file outside Hearth's
    folder hides it: a row in the library's list)."""
    command = {"chats": ["chat", str(model)], "library": ["rm", str(model)], "compare": ["bench", str(model)]}
    return subprocess.run(
        [sys.executable, "-m", "desktop", *command[kind]],
        input="hello\n",
        capture_output=True,
        text=True,
        timeout=60,
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_one_error(result: subprocess.CompletedProcess[str], path: Path, *words: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert str(path) in lines[0] and all(w in lines[0] for w in words), lines[0]


def damage(path: Path, how: str) -> None:
    if how == "random":
        path.write_bytes(os.urandom(8192))
    elif how == "cut":
        data = path.read_bytes()
        assert len(data) > 4 * 4096
        path.write_bytes(data[: len(data) // 2])
    elif how == "foreign":
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE recipes (name TEXT, steps TEXT)")
        db.execute("INSERT INTO recipes VALUES ('bread', 'knead')")
        db.commit()
        db.close()


@pytest.mark.parametrize(
    "how,words", [("random", "is damaged"), ("cut", "cut short"), ("foreign", "not Hearth's")]
)
@pytest.mark.parametrize("kind", ["chats", "library", "compare"])
def test_a_damaged_or_foreign_file_is_one_error_line_and_left_alone(
    kind: str, how: str, words: str, tiny_model: Path
) -> None:
    path = db_path(kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    if how != "foreign":
        MAKERS[kind](path)
    damage(path, how)
    before = sha(path)
    result = hearth(*reading_command(kind, tiny_model), timeout=60)
    assert_one_error(result, path, words, "Move it aside")
    assert sha(path) == before
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name)) == [path.name]


OPENERS: dict[str, Callable[[Path], object]] = {
    "chats": ConversationStore,
    "library": lambda path: Catalog(),
    "compare": CompareStore,
}


@pytest.mark.parametrize("kind", ["chats", "library", "compare"])
def test_a_foreign_file_is_refused_before_anything_is_written(kind: str) -> None:
    """Today the journal mode was switched to WAL before any check (header bytes 18-19 went
    from 1 to 2) and the chats' tables were then created in the other program's file."""
    path = db_path(kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    damage(path, "foreign")
    before = path.read_bytes()
    with pytest.raises(OSError) as refused:
        OPENERS[kind](path)
    assert isinstance(refused.value, StorageError) and refused.value.kind == "foreign"
    assert path.read_bytes() == before


def test_todays_files_are_adopted_and_a_newer_one_refused(tmp_path: Path) -> None:
    """library.sqlite3 and compare.sqlite3 had no user_version: such a file opens, keeps its rows
    and is numbered; one written by a newer Hearth is refused, unchanged."""
    path = tmp_path / "library.sqlite3"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE hidden (path TEXT PRIMARY KEY)")
    old.execute("INSERT INTO hidden VALUES ('/a.gguf')")
    old.execute(
        "CREATE TABLE headers (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, "
        "header TEXT, broken TEXT)"
    )
    old.commit()
    old.close()
    db = open_library(path)
    assert db.rows("SELECT path FROM hidden") == [("/a.gguf",)]
    # numbered, and the header cache (now headers.sqlite3's) left behind
    assert db.row("PRAGMA user_version")[0] == len(LIBRARY_SCHEMA.migrations)
    assert db.row("SELECT count(*) FROM sqlite_master WHERE name = 'headers'")[0] == 0
    db.execute("PRAGMA user_version = 7")
    db.close()
    before = path.read_bytes()
    with pytest.raises(StorageError, match="newer Hearth") as refused:
        open_library(path)
    assert refused.value.kind == "newer" and path.read_bytes() == before


@pytest.fixture
def locked() -> Iterator[Callable[[Path], None]]:
    holders: list[subprocess.Popen[str]] = []

    def lock(path: Path) -> None:
        code = (
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read()"
        )
        holder = subprocess.Popen(
            [sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        holders.append(holder)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"

    yield lock
    for holder in holders:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


@pytest.mark.parametrize("kind", ["chats", "library", "compare"])
def test_a_locked_file_is_waited_for_briefly_then_said(kind: str, tiny_model: Path, locked) -> None:
    path = db_path(kind)
    MAKERS[kind](path)
    locked(path)
    before = sha(path)
    assert_one_error(run_writing(kind, tiny_model), path, "in use by another program")
    assert sha(path) == before


@pytest.fixture
def small_disk(tmp_path: Path, tmpfs: Callable[..., Path]) -> Path:
    """A 4 MB file system of its own."""
    return tmpfs(tmp_path / "small-disk", 4 * 1024 * 1024)


def fill(folder: Path) -> None:
    with (folder / "filler").open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError:
            pass


def remount_read_only(folder: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)


@pytest.mark.parametrize("disk,words", [("full", "is full"), ("read_only", "read-only")])
@pytest.mark.parametrize("kind", ["chats", "library", "compare"])
def test_a_full_or_read_only_disk_is_said_in_words(
    kind: str, disk: str, words: str, tiny_model: Path, small_disk: Path
) -> None:
    path = db_path(kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    real = small_disk / path.name
    MAKERS[kind](real)
    path.symlink_to(real)  # SQLite keeps its -wal and -shm beside the real file
    before = sha(real)
    if disk == "full":
        fill(small_disk)
    else:
        remount_read_only(small_disk)
    assert_one_error(run_writing(kind, tiny_model), path, words)
    assert sha(real) == before


# settings.json and downloads.json


@pytest.mark.parametrize(
    "content", [b"\x89\x00garbage\xff", b'{"models_dir": "/models", "thr', b'["not", "settings"]']
)
def test_damaged_settings_are_kept_warned_about_and_never_saved_over(
    content: bytes, tiny_model: Path
) -> None:
    file = hearth_paths().settings_file
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(content)
    assert load_settings() == Settings()
    with pytest.raises(StorageError, match="will not save over it"):
        save_settings(Settings(threads=3))
    assert file.read_bytes() == content
    result = hearth("list", "--json", timeout=60)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert f"warning: The settings file {file} is damaged" in result.stderr
    assert file.read_bytes() == content
    # Moved aside, the next save starts a new file.
    moved = move_aside(file)
    assert moved.read_bytes() == content
    save_settings(Settings(threads=3))
    assert load_settings().threads == 3


@pytest.mark.parametrize("content", [b"\x00\x01", b'[{"repo_id": "a/b", "wanted": "x.gguf"', b'{"a": 1}'])
def test_a_damaged_download_queue_is_kept_and_never_saved_over(content: bytes, tmp_path: Path) -> None:
    file = tmp_path / "downloads.json"
    file.write_bytes(content)
    with pytest.raises(StorageError, match="is damaged"):
        load_queue(file)
    with pytest.raises(StorageError, match="will not save over it"):
        save_queue(file, [DownloadItem("a/b", "x.gguf", "a/b · x")])
    assert file.read_bytes() == content


@pytest.mark.parametrize("disk,words", [("full", "is full"), ("read_only", "read-only")])
def test_saving_settings_or_the_queue_on_a_full_or_read_only_disk(
    disk: str, words: str, small_disk: Path
) -> None:
    queue = small_disk / "downloads.json"
    save_queue(queue, [DownloadItem("a/b", "x.gguf", "a/b · x")])
    settings = small_disk / "settings.json"
    settings.write_text(json.dumps({"threads": 2}))
    queue_before, settings_before = queue.read_bytes(), settings.read_bytes()
    if disk == "full":
        fill(small_disk)
    else:
        remount_read_only(small_disk)
    with pytest.raises(StorageError, match=words):
        save_queue(queue, [DownloadItem("c/d", "y.gguf", "c/d · y", 10**6)] * 50)
    paths = hearth_paths()
    from dataclasses import replace

    with pytest.raises(StorageError, match=words):
        save_settings(Settings(watched_folders=["/x" * 1000] * 100), replace(paths, config_dir=small_disk))
    assert queue.read_bytes() == queue_before and settings.read_bytes() == settings_before
    assert [p.name for p in small_disk.iterdir() if p.name.startswith(".")] == []  # no half-written temp file


@pytest.mark.parametrize("tables", [("messages", "users"), ("messages",)])
def test_a_file_that_shares_a_table_name_is_not_taken_for_hearths(
    tmp_path: Path, tables: tuple[str, ...]
) -> None:
    """Another program's "messages" table: refused as foreign beside tables of its own, and
    alone (it looks like an older Hearth's then) the first migration fails and is rolled back
    before the journal mode is switched, so the file is unchanged either way."""
    path = tmp_path / "chats.sqlite3"
    db = sqlite3.connect(path)
    for table in tables:
        db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO messages (body) VALUES ('theirs')")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StorageError) as refused:
        ConversationStore(path)
    assert refused.value.kind == ("foreign" if len(tables) > 1 else "damaged")
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists() and not Path(f"{path}-journal").exists()
