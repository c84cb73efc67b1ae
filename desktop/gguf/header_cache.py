"""Parsed GGUF headers kept in a file of their own (headers.sqlite3), by path, size and modification time.

The library's scan fills it, so a rescan with nothing changed reads no file, and the engine
worker finds a model's header there when it loads it (a vocabulary of a quarter of a million
strings takes 30-60 ms to step over; the lookup about 1 ms). A file that is replaced,
truncated or grown has another size or time and is read again. A broken file is kept as its
reason, so it is not parsed again either.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from desktop.db import BUSY_TIMEOUT_S, Database, Migration, Schema, StorageError, open_database
from desktop.gguf.header import BrokenModel, GGUFHeader, read_header

_HEADER_FIELDS = [f.name for f in fields(GGUFHeader) if f.name != "fields"]
# Of the header's fields, the cache keeps what the memory arithmetic needs.
SHAPE_KEYS = (
    ".block_count",
    ".context_length",
    ".embedding_length",
    ".attention.head_count",
    ".attention.head_count_kv",
    ".attention.key_length",
    ".attention.value_length",
    # What a predicted speed depends on for a mixture-of-experts model (desktop/gguf/speed.py).
    ".expert_count",
    ".expert_used_count",
    ".expert_feed_forward_length",
    ".expert_shared_count",
    ".expert_shared_feed_forward_length",
    ".feed_forward_length",
    ".vocab_size",
)


HEADERS_SCHEMA = Schema(
    label="header cache",
    fresh="an empty header cache (models are read again, nothing else is lost)",
    application_id=0x48544843,  # "HTHC"
    tables=frozenset({"headers"}),
    migrations=(
        Migration(
            "parsed headers by path, size and modification time; a broken file's reason",
            (
                "CREATE TABLE IF NOT EXISTS headers (path TEXT PRIMARY KEY, size INTEGER, "
                "mtime_ns INTEGER, header TEXT, broken TEXT)",
            ),
        ),
    ),
)


class HeaderCache:
    def __init__(self, db: Database | None) -> None:
        """``db`` None: nothing is kept (the cache's file can't be used), every read parses."""
        self._db = db
        self.reads = 0  # files actually parsed (the rest came from the cache)
        self._writable = True

    @classmethod
    def open(cls, db_path: Path, busy_timeout_s: float = BUSY_TIMEOUT_S) -> HeaderCache:
        """Raises StorageError when the cache's file can't be used."""
        db_path.parent.mkdir(parents=True, exist_ok=True)
        return cls(open_database(db_path, HEADERS_SCHEMA, busy_timeout_s=busy_timeout_s))

    @classmethod
    def open_or_none(cls, db_path: Path, busy_timeout_s: float = BUSY_TIMEOUT_S) -> HeaderCache:
        """The cache, started afresh when its file is damaged (that one is moved aside to
        ``headers.sqlite3.damaged``, not deleted); one that keeps nothing when the file can't be
        used at all (locked, read-only, a full disk): it only saves time."""
        try:
            return cls.open(db_path, busy_timeout_s)
        except StorageError as exc:
            if not exc.can_move_aside:
                return cls(None)
            try:
                db_path.replace(db_path.with_name(db_path.name + ".damaged"))
                for suffix in ("-wal", "-shm"):
                    db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
                return cls.open(db_path, busy_timeout_s)
            except OSError:
                return cls(None)
        except OSError:
            return cls(None)

    def read(self, path: Path) -> GGUFHeader:
        """``read_header(path)``, from the cache when this file is the one cached."""
        stat = path.stat()
        row = None
        if self._db is not None:
            with contextlib.suppress(StorageError):  # locked or damaged: the file says the same
                row = self._db.row(
                    "SELECT header, broken FROM headers WHERE path = ? AND size = ? AND mtime_ns = ?",
                    (str(path), stat.st_size, stat.st_mtime_ns),
                )
        if row is not None:
            if row[1] is not None:
                raise BrokenModel(row[1])
            try:
                kept_header = json.loads(row[0])
                # Kept by an older Hearth (no tensor summary, fewer shape fields): read again.
                if "weight_reads" in kept_header:
                    return GGUFHeader(**kept_header)
            except (TypeError, ValueError):
                pass  # kept by another version of Hearth, or damaged: read the file again
        self.reads += 1
        try:
            header = read_header(path)
        except BrokenModel as exc:
            self._store(path, stat.st_size, stat.st_mtime_ns, None, str(exc))
            raise
        # Not asdict(): it would deep-copy every header field, vocabulary summaries included.
        kept: dict[str, Any] = {name: getattr(header, name) for name in _HEADER_FIELDS}
        kept["fields"] = {
            k: v for k, v in header.fields.items() if k == "general.architecture" or k.endswith(SHAPE_KEYS)
        }
        self._store(path, stat.st_size, stat.st_mtime_ns, json.dumps(kept, default=str), None)
        return header

    def _store(self, path: Path, size: int, mtime_ns: int, header: str | None, broken: str | None) -> None:
        if self._db is None or not self._writable:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO headers VALUES (?, ?, ?, ?, ?)",
                (str(path), size, mtime_ns, header, broken),
            )
        except StorageError:
            # Busy past the timeout, read-only or full: the header is right, only not kept,
            # and the next one is not waited for again.
            self._writable = False

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
