"""Downloading a model file into the library, verified before it is listed.

A file is fetched with ``hf_hub_download`` into a staging folder the library never lists,
checked against the size and sha256 in the Hub's file metadata, and only then moved to
``<models>/<owner>/<repo>/<file>``. A failed check discards the file; nothing half-written
is ever registered.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from huggingface_hub import constants as hf_constants
from huggingface_hub import hf_hub_download
from huggingface_hub._local_folder import get_local_download_paths
from huggingface_hub.utils.tqdm import tqdm as hf_tqdm

from desktop.hub.api import ensure_reachable, hub_endpoint
from desktop.hub.errors import HubError, describe_hub_error
from desktop.hub.files import HubFile, check_repo_id, list_files
from desktop.units import format_bytes

# huggingface_hub reads the body in 10 MB pieces and reports progress once per piece: on a
# slow link the bar would stand still for minutes. 1 MiB keeps it moving at any speed.
PROGRESS_CHUNK_BYTES = 1024 * 1024


class DownloadError(Exception):
    """A download that failed, with a message fit to show as it is."""


@dataclass(frozen=True)
class DownloadProgress:
    done_bytes: int
    total_bytes: int | None
    bytes_per_second: float

    @property
    def fraction(self) -> float | None:
        if not self.total_bytes:
            return None
        return min(1.0, self.done_bytes / self.total_bytes)

    @property
    def eta_seconds(self) -> float | None:
        if not self.total_bytes or self.bytes_per_second <= 0:
            return None
        return max(0.0, (self.total_bytes - self.done_bytes) / self.bytes_per_second)


ProgressCallback = Callable[[DownloadProgress], None]


def library_path_for(models_dir: Path, repo_id: str, filename: str) -> Path:
    """Where a Hub file lives in the library; refuses names that would escape it."""
    check_repo_id(repo_id)
    parts = Path(filename).parts
    if not parts or Path(filename).is_absolute() or any(p in ("..", ".", "") for p in parts):
        raise DownloadError(f"Refusing the file name '{filename}': it would leave the models folder.")
    repo_dir = (models_dir / repo_id).resolve()
    target = (repo_dir / filename).resolve()
    if not target.is_relative_to(repo_dir):
        raise DownloadError(f"Refusing the file name '{filename}': it would leave the models folder.")
    return target


def sha256_of(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(4 * 1024 * 1024):
            digest.update(chunk)
            if on_bytes:
                on_bytes(len(chunk))
    return digest.hexdigest()


class _Meter:
    """Turns byte counts into throttled progress reports with a smoothed speed."""

    def __init__(self, total: int | None, callback: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0
        self._callback = callback
        self._lock = threading.Lock()
        self._last_report = 0.0
        self._window: list[tuple[float, int]] = []

    def add(self, n: int) -> None:
        with self._lock:
            self.done += n
            now = time.monotonic()
            self._window.append((now, self.done))
            self._window = [(t, d) for t, d in self._window if now - t <= 3.0]
            if self._callback and (now - self._last_report >= 0.1 or self.done == self.total):
                self._last_report = now
                self._callback(self.snapshot())

    def snapshot(self) -> DownloadProgress:
        speed = 0.0
        if len(self._window) >= 2:
            (t0, d0), (t1, d1) = self._window[0], self._window[-1]
            if t1 > t0:
                speed = (d1 - d0) / (t1 - t0)
        return DownloadProgress(self.done, self.total, speed)


def _progress_class(meter: _Meter) -> type[hf_tqdm]:
    class _Bar(hf_tqdm):
        _meter: ClassVar[_Meter] = meter

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True  # Hearth draws its own progress
            super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]

        def update(self, n: float | None = 1) -> bool | None:
            self._meter.add(int(n or 0))
            return None

    return _Bar


def _check_free_space(folder: Path, needed: int | None) -> None:
    if needed is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    # A margin, so the download never fills the disk to the last byte.
    if free < needed + 64 * 1024 * 1024:
        raise DownloadError(
            f"Not enough free disk space in {folder}: the file needs {format_bytes(needed)}, "
            f"{format_bytes(free)} is free. Free some space or choose another models folder."
        )


def staging_partials(staging_dir: Path, repo_id: str, filename: str) -> list[Path]:
    """The partial files huggingface_hub left for this file, found by its own naming scheme."""
    marker = "HEARTHETAG"
    probe = get_local_download_paths(staging_dir / repo_id, filename).incomplete_path(marker)
    prefix = probe.name.split(f".{marker}.")[0]
    return sorted(probe.parent.glob(f"{prefix}.*.incomplete"))


def discard_partial(staging_dir: Path, repo_id: str, filename: str) -> None:
    """After a cancel: huggingface_hub 2.x cannot resume its own partial files, so drop them."""
    for part in staging_partials(staging_dir, repo_id, filename):
        part.unlink(missing_ok=True)
    staged = staging_dir / repo_id / filename
    staged.unlink(missing_ok=True)


def download_to_library(
    repo_id: str,
    filename: str,
    *,
    models_dir: Path,
    staging_dir: Path,
    on_progress: ProgressCallback | None = None,
    remote: HubFile | None = None,
    commit: str | None = None,
) -> Path:
    """Fetch one file into the library and return its path there. Idempotent."""
    target = library_path_for(models_dir, repo_id, filename)
    if remote is None:
        listing = list_files(repo_id)
        remote = listing.find(filename)
        commit = listing.commit
        if remote is None:
            raise DownloadError(f"'{filename}' is not in {repo_id} on the Hub.")

    if target.is_file() and _matches(target, remote):
        return target

    _check_free_space(staging_dir, remote.size_bytes)
    _check_free_space(models_dir, remote.size_bytes)
    meter = _Meter(remote.size_bytes, on_progress)
    staging_repo = staging_dir / repo_id
    hf_constants.DOWNLOAD_CHUNK_SIZE = PROGRESS_CHUNK_BYTES
    ensure_reachable()
    try:
        staged = Path(
            hf_hub_download(
                repo_id,
                filename,
                revision=commit,
                local_dir=staging_repo,
                endpoint=hub_endpoint(),
                tqdm_class=_progress_class(meter),
            )
        )
    except HubError:
        raise
    except OSError as exc:
        if exc.errno == 28:  # ENOSPC
            raise DownloadError("The disk filled up during the download; it was stopped.") from exc
        raise describe_hub_error(exc, repo_id=repo_id) from exc
    except Exception as exc:
        raise describe_hub_error(exc, repo_id=repo_id) from exc

    if not _matches(staged, remote):
        staged.unlink(missing_ok=True)
        raise DownloadError(
            f"The downloaded '{filename}' does not match the size and checksum the Hub lists for it, "
            "so it was discarded. Try the download again."
        )
    _move_into_library(staged, target)
    if on_progress:
        on_progress(DownloadProgress(meter.total or meter.done, meter.total, 0.0))
    return target


def _matches(path: Path, remote: HubFile) -> bool:
    if remote.size_bytes is not None and path.stat().st_size != remote.size_bytes:
        return False
    return remote.sha256 is None or sha256_of(path) == remote.sha256


def _move_into_library(staged: Path, target: Path) -> None:
    """The library lists ``*.gguf`` only, so a copy across disks goes under a temporary name first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        staged.replace(target)
    except OSError:
        temporary = target.with_name(target.name + ".moving")
        shutil.copyfile(staged, temporary)
        temporary.replace(target)
        staged.unlink(missing_ok=True)
