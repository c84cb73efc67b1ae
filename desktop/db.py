"""The one way Hearth opens a SQLite file, and the one error a damaged, foreign, locked,
read-only or full store becomes.

A file is looked at read-only first (its header, then ``application_id``, ``user_version``
and its tables through a ``mode=ro`` connection); only when it is new, Hearth's own or of
today's shape is it opened for writing, switched to WAL and migrated. Switching to WAL is a
write to the header, so a file that is refused is never changed.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

Kind = Literal["damaged", "foreign", "newer", "locked", "read_only", "full"]
_KINDS = ("damaged", "foreign", "newer", "locked", "read_only", "full")
BUSY_TIMEOUT_S = 2.0
_HEADER = b"SQLite format 3\x00"


class StorageError(OSError):
    """One of Hearth's files can't be used; the message names it and says what to do.

    An OSError, so code that already copes with an unreadable file copes with this one.
    """

    def __init__(self, path: Path, kind: Kind, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return self.message

    @property
    def can_move_aside(self) -> bool:
        """Moving the file aside (and starting afresh) is the way out, not waiting or freeing space."""
        return self.kind in ("damaged", "foreign", "newer")


@dataclass(frozen=True)
class Migration:
    name: str
    statements: tuple[str, ...]  # one by one: a trigger body holds ";"


@dataclass(frozen=True)
class Schema:
    """One file's schema: every class that uses the file opens it with this."""

    label: str  # what the file is, in words: "chat history"
    fresh: str  # what moving it aside gives: "a new chat history"
    application_id: int  # PRAGMA application_id: Hearth's files are told from anyone else's
    # Every table it makes: a file without our id holding only these is an older Hearth's.
    tables: frozenset[str]
    migrations: tuple[Migration, ...]  # migration n sets user_version n


def storage_error(path: Path, exc: BaseException, label: str = "file", fresh: str = "afresh") -> StorageError:
    """``exc`` (a sqlite3 or OS error met on ``path``) in words."""
    if isinstance(exc, StorageError):
        return exc
    kind = _kind(exc)
    if kind == "damaged" and _io_error(exc) and _disk_full(path):
        kind = "full"  # SQLite says "disk I/O error" when it can't grow its -shm file
    detail = str(exc) or type(exc).__name__
    if kind == "full":
        text = (
            f"The disk holding {path} is full, so the {label} could not be saved. "
            "Free some space and try again."
        )
    elif kind == "locked":
        text = (
            f"The {label} {path} is in use by another program and stayed locked. "
            "Close the other program (or another Hearth) and try again."
        )
    elif kind == "read_only":
        text = (
            f"The {label} {path} can't be written (the file or its folder is read-only). "
            "Make it writable and try again."
        )
    else:
        text = (
            f"The {label} {path} is damaged ({detail}). Move it aside to start {fresh}; "
            "Hearth has not changed it."
        )
    return StorageError(path, kind, text)


def _kind(exc: BaseException) -> Kind:
    if isinstance(exc, sqlite3.Error):
        code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        text = str(exc).lower()
        if code == sqlite3.SQLITE_FULL or "disk is full" in text:
            return "full"
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
            return "locked"
        if (
            code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN)
            or "readonly" in text
        ):
            return "read_only"
        return "damaged"
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return "full"
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return "read_only"
    return "damaged"


def _io_error(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF == sqlite3.SQLITE_IOERR
    return isinstance(exc, OSError)


def _disk_full(path: Path) -> bool:
    try:
        stat = os.statvfs(path.resolve().parent)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False
    return stat.f_bavail * stat.f_frsize < 64 * 1024


class Database:
    """A connection whose every error is a StorageError naming the file."""

    def __init__(self, connection: sqlite3.Connection, path: Path, schema: Schema) -> None:
        self.connection = connection
        self.path = path
        self.schema = schema

    def error(self, exc: BaseException) -> StorageError:
        return storage_error(self.path, exc, self.schema.label, self.schema.fresh)

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        try:
            return self.connection.execute(sql, params)
        except sqlite3.Error as exc:
            raise self.error(exc) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        try:
            return self.connection.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise self.error(exc) from exc

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        try:
            return self.connection.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self.error(exc) from exc

    def row(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        try:
            return self.connection.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise self.error(exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """BEGIN IMMEDIATE: a writer waits for the lock up front, not after it has read."""
        self.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            with suppress(sqlite3.Error):
                self.connection.execute("ROLLBACK")
            raise
        try:
            self.connection.execute("COMMIT")
        except sqlite3.Error as exc:
            with suppress(sqlite3.Error):
                self.connection.execute("ROLLBACK")
            raise self.error(exc) from exc

    def close(self) -> None:
        with suppress(sqlite3.Error):
            self.connection.close()


@dataclass(frozen=True)
class _Found:
    application_id: int
    user_version: int
    tables: frozenset[str]


def open_database(
    path: Path,
    schema: Schema,
    *,
    read_only: bool = False,
    busy_timeout_s: float = BUSY_TIMEOUT_S,
    row_factory: Any = None,
) -> Database:
    """The file at ``path``, checked, in WAL mode with foreign keys on, migrated to ``schema``.

    Raises StorageError (the file untouched) when it is damaged, another program's, written
    by a newer Hearth, locked past ``busy_timeout_s``, read-only or on a full disk.
    """

    def fail(exc: BaseException) -> StorageError:
        return storage_error(path, exc, schema.label, schema.fresh)

    found = _look(path, schema, busy_timeout_s, fail)
    if found is not None:
        _check(path, schema, found)
    if read_only:
        if found is None:
            raise StorageError(path, "damaged", f"The {schema.label} {path} does not exist yet.")
        try:
            ro = sqlite3.connect(_ro_uri(path), uri=True, timeout=busy_timeout_s, check_same_thread=False)
        except sqlite3.Error as exc:
            raise fail(exc) from exc
        ro.row_factory = row_factory
        return Database(ro, path, schema)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(exc) from exc
    try:
        connection = sqlite3.connect(
            path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise fail(exc) from exc
    connection.row_factory = row_factory
    db = Database(connection, path, schema)
    try:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        _migrate(db, schema)
        # Last: the switch writes the header, so a migration that fails leaves the file as it was.
        db.execute("PRAGMA journal_mode=WAL")
    except BaseException:
        db.close()
        raise
    return db


def _ro_uri(path: Path) -> str:
    return path.absolute().as_uri() + "?mode=ro"


def _look(path: Path, schema: Schema, busy_timeout_s: float, fail: Any) -> _Found | None:
    """What the file holds, read without writing; None when there is no file yet (or it is empty)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise fail(exc) from exc
    if size == 0:
        return None  # SQLite's own empty database
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError as exc:
        raise fail(exc) from exc
    if len(header) < 100 or not header.startswith(_HEADER):
        raise StorageError(
            path,
            "damaged",
            f"The {schema.label} {path} is damaged (it is not a database). Move it aside to start "
            f"{schema.fresh}; Hearth has not changed it.",
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count is valid when its change counter matches (SQLite 3.7.0 on).
    counted = header[24:28] == header[92:96]
    wal = Path(f"{path.resolve()}-wal")  # SQLite keeps it beside the real file, past a link
    if counted and pages and size < pages * page_size and not wal.exists():
        raise StorageError(
            path,
            "damaged",
            f"The {schema.label} {path} is damaged (the file is cut short: {size:,} of "
            f"{pages * page_size:,} bytes). Move it aside to start {schema.fresh}; Hearth has not "
            "changed it.",
        )
    try:
        ro = sqlite3.connect(_ro_uri(path), uri=True, timeout=busy_timeout_s)
    except sqlite3.Error as exc:
        raise fail(exc) from exc
    try:
        application_id = int(ro.execute("PRAGMA application_id").fetchone()[0])
        user_version = int(ro.execute("PRAGMA user_version").fetchone()[0])
        tables = frozenset(
            r[0] for r in ro.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        )
    except sqlite3.Error as exc:
        raise fail(exc) from exc
    finally:
        ro.close()
    return _Found(application_id, user_version, tables)


def _check(path: Path, schema: Schema, found: _Found) -> None:
    ours = found.application_id == schema.application_id
    # An older Hearth set no application_id; anyone else's tables make a file foreign.
    older_hearth = (
        found.application_id == 0
        and {t for t in found.tables if not t.startswith("sqlite_")} <= schema.tables
    )
    if not ours and not older_hearth:
        raise StorageError(
            path,
            "foreign",
            f"{path} is not Hearth's {schema.label}: it is another program's database. Move it "
            f"aside to start {schema.fresh}; Hearth has not changed it.",
        )
    if found.user_version > len(schema.migrations):
        raise StorageError(
            path,
            "newer",
            f"The {schema.label} {path} was written by a newer Hearth (schema {found.user_version}); "
            "update Hearth to open it. It has not been changed.",
        )


def _migrate(db: Database, schema: Schema) -> None:
    version = int(db.row("PRAGMA user_version")[0])
    # Checked again under the writer's connection: another Hearth may have migrated meanwhile.
    if version > len(schema.migrations):
        _check(db.path, schema, _Found(schema.application_id, version, frozenset()))
    for number, migration in enumerate(schema.migrations[version:], start=version + 1):
        with db.transaction():
            for statement in migration.statements:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
            db.execute(f"PRAGMA application_id = {schema.application_id}")
    if int(db.row("PRAGMA application_id")[0]) != schema.application_id:
        with db.transaction():  # a file of an older Hearth, adopted
            db.execute(f"PRAGMA application_id = {schema.application_id}")


def aside_name(path: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return path.with_name(f"{path.name}.damaged-{stamp}")


def move_aside(path: Path) -> Path:
    """Renames the file (and SQLite's -wal and -shm beside it) to ``<name>.damaged-<time>``.

    Nothing is deleted: the person decides what becomes of it."""
    target = aside_name(path)
    n = 1
    while target.exists():
        n += 1
        target = target.with_name(f"{aside_name(path).name}-{n}")
    try:
        path.rename(target)
        for suffix in ("-wal", "-shm"):
            companion = Path(f"{path}{suffix}")
            if companion.exists():
                companion.rename(Path(f"{target}{suffix}"))
    except OSError as exc:
        raise storage_error(path, exc) from exc
    return target


def problem_to_json(exc: StorageError) -> dict[str, str]:
    """A StorageError as the scan helper process hands it to the window."""
    return {"path": str(exc.path), "kind": exc.kind, "message": exc.message}


def problem_from_json(data: object) -> StorageError | None:
    if not isinstance(data, dict) or data.get("kind") not in _KINDS:
        return None
    return StorageError(Path(str(data.get("path", ""))), data["kind"], str(data.get("message", "")))
