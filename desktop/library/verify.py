"""Checking a model file against the sha256 it should have, in the background, with progress."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop.library.provenance import ProvenanceStore
from desktop.library.scan import LocalModel, model_files
from desktop.paths import hearth_paths

_SHA256 = re.compile(r"^(?:sha256-)?([0-9a-f]{64})$")


@dataclass(frozen=True)
class Verdict:
    path: Path
    expected: str | None  # None: nothing recorded to check against
    actual: str

    @property
    def ok(self) -> bool | None:
        return None if self.expected is None else self.expected == self.actual


def expected_sha256(path: Path, provenance: ProvenanceStore) -> str | None:
    """From Hearth's download record, or from the file's own store: the Hugging Face cache and
    Ollama name their blobs by sha256."""
    record = provenance.get(path)
    if record is not None and record.sha256:
        return record.sha256
    match = _SHA256.match(path.resolve().name)
    return match.group(1) if match else None


def verify_model(model: LocalModel, on_bytes: Callable[[int, int], None] | None = None) -> list[Verdict]:
    files = model_files(model)
    total = sum(f.stat().st_size for f in files)
    done = 0
    verdicts: list[Verdict] = []
    provenance = ProvenanceStore(hearth_paths().library_db)
    try:
        for file in files:
            digest = hashlib.sha256()
            with file.open("rb") as f:
                while chunk := f.read(8 * 1024 * 1024):
                    digest.update(chunk)
                    done += len(chunk)
                    if on_bytes:
                        on_bytes(done, total)
            verdicts.append(Verdict(file, expected_sha256(file, provenance), digest.hexdigest()))
    finally:
        provenance.close()
    return verdicts
