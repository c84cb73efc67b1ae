"""Where each downloaded model came from, and the sha256 it was verified against.

Kept in SQLite (the app and ``hearth pull`` may write at the same time). A record also
makes ``pull`` idempotent without re-hashing: a file whose size and modification time are
unchanged since it was verified is taken as verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop.clock import utc_stamp
from desktop.library.library_db import open_library


@dataclass(frozen=True)
class Provenance:
    path: Path
    repo_id: str
    filename: str
    revision: str | None
    sha256: str | None
    size: int
    mtime_ns: int
    verified: str

    def still_matches(self) -> bool:
        try:
            stat = self.path.stat()
        except OSError:
            return False
        return stat.st_size == self.size and stat.st_mtime_ns == self.mtime_ns


class ProvenanceStore:
    def __init__(self, db_path: Path) -> None:
        """Raises StorageError when the library's file can't be used."""
        self._db = open_library(db_path)

    def close(self) -> None:
        self._db.close()

    def record(
        self, path: Path, *, repo_id: str, filename: str, revision: str | None, sha256: str | None
    ) -> None:
        stat = path.stat()
        self._db.execute(
            "INSERT OR REPLACE INTO downloads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(path),
                repo_id,
                filename,
                revision,
                sha256,
                stat.st_size,
                stat.st_mtime_ns,
                utc_stamp(),
            ),
        )

    def get(self, path: Path) -> Provenance | None:
        row = self._db.row("SELECT * FROM downloads WHERE path = ?", (str(path),))
        if row is None:
            return None
        return Provenance(Path(row[0]), row[1], row[2], row[3], row[4], int(row[5]), int(row[6]), row[7])
