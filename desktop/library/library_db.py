"""library.sqlite3's one schema: the hidden and used lists and where downloads came from.

Catalog and ProvenanceStore both open the file with this schema, so its tables
are created in one place, in numbered migrations.
"""

from __future__ import annotations

from pathlib import Path

from desktop.db import BUSY_TIMEOUT_S, Database, Migration, Schema, open_database

LIBRARY_SCHEMA = Schema(
    label="library list",
    fresh="a new library list (your model files are not in it and stay where they are)",
    application_id=0x48544C31,  # "HTL1"
    tables=frozenset({"hidden", "used", "headers", "downloads"}),
    migrations=(
        # Before numbered migrations each class created its own tables: an existing file of
        # that shape is adopted, so every statement here is IF NOT EXISTS.
        Migration(
            "hidden and used models, header cache, download records",
            (
                "CREATE TABLE IF NOT EXISTS hidden (path TEXT PRIMARY KEY)",
                "CREATE TABLE IF NOT EXISTS used (path TEXT PRIMARY KEY, at TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS headers (path TEXT PRIMARY KEY, size INTEGER, "
                "mtime_ns INTEGER, header TEXT, broken TEXT)",
                """CREATE TABLE IF NOT EXISTS downloads (
                    path TEXT PRIMARY KEY,
                    repo_id TEXT NOT NULL,
                    filename TEXT NOT NULL,
                    revision TEXT,
                    sha256 TEXT,
                    size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL,
                    verified TEXT NOT NULL
                )""",
            ),
        ),
        # The header cache has a file of its own (desktop.gguf.header_cache), so each file
        # has one owner; "headers" stays in ``tables`` so a file from before is still adopted.
        Migration("the header cache moved to headers.sqlite3", ("DROP TABLE IF EXISTS headers",)),
    ),
)


def open_library(path: Path, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Database:
    return open_database(path, LIBRARY_SCHEMA, busy_timeout_s=busy_timeout_s)
