"""Downloading a model into the library: resumable, verified, and only then listed.

Each file is fetched over HTTP with huggingface_hub's own ``get_hf_file_metadata`` and
``http_get`` into ``<staging>/<owner>/<repo>/<file>.part``, hashed as it arrives, checked
against the size and sha256 in the Hub's file metadata, and only then moved to
``<models>/<owner>/<repo>/<file>``. A broken or cancelled transfer leaves its ``.part``
behind and the next attempt resumes from it with a Range request (``hf_hub_download``
2.x cannot resume: it writes a per-process temporary file and deletes it on failure).

A sharded model is one download of all its parts. A lock per file keeps two Hearth
processes (the app and ``hearth pull``, say) from writing the same file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from desktop.hub import load_huggingface_hub
from desktop.hub.api import ensure_reachable, hub_endpoint
from desktop.hub.describe import describe_hub_error
from desktop.hub.errors import HubError
from desktop.hub.files import HubFile, RepoFiles, check_repo_id, list_files
from desktop.hub.limits import ServerMisbehaved, answer_limits, download_limits
from desktop.hub.quants import QuantChoice, group_quants
from desktop.library.provenance import ProvenanceStore
from desktop.paths import hearth_paths
from desktop.safe_text import NAME_MAX_BYTES, name_problem, printable
from desktop.settings import load_settings
from desktop.units import format_bytes

if TYPE_CHECKING:
    from huggingface_hub.utils.tqdm import tqdm as hf_tqdm

# filelock and huggingface_hub are imported by the functions that download, not here: the app
# imports this module for DownloadProgress, and its window starts faster without them.

# huggingface_hub reads the body in 10 MB pieces, reports progress once per piece and loses
# the piece in hand when a connection drops: on a slow link the bar would stand still for
# minutes and a resume would repeat up to 10 MB. 256 KiB keeps both small at no cost in speed.
PROGRESS_CHUNK_BYTES = 256 * 1024


class DownloadError(Exception):
    """A download that failed, with a message fit to show as it is."""


class AlreadyDownloading(DownloadError):
    """Another Hearth process holds this file's download lock."""


@dataclass(frozen=True)
class DownloadProgress:
    done_bytes: int
    total_bytes: int | None
    bytes_per_second: float
    # "verifying": hashing what is already on disk (a resumed part, a file already in the
    # library), with done and total that file's bytes; the download's own bytes hash as they come
    stage: str = "downloading"

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


@dataclass(frozen=True)
class DownloadPlan:
    """What one download fetches: a file, or every shard of a sharded model."""

    repo_id: str
    revision: str | None
    choice: QuantChoice

    @property
    def files(self) -> tuple[HubFile, ...]:
        return self.choice.files


def plan_download(repo_id: str, wanted: str, listing: RepoFiles | None = None) -> DownloadPlan:
    """``wanted`` is a file name (a shard names its whole model) or a quant label such as Q4_K_M."""
    listing = listing or list_files(repo_id)
    choices = group_quants(listing.files)
    for choice in choices:
        if wanted in choice.filenames:
            return DownloadPlan(repo_id, listing.commit, choice)
    exact = listing.find(wanted)
    if exact is not None:  # a file that is not a model (a README, say)
        return DownloadPlan(repo_id, listing.commit, QuantChoice(None, "file", (exact,)))
    by_quant = [c for c in choices if c.quant and c.quant.upper() == wanted.upper()]
    if len(by_quant) == 1:
        return DownloadPlan(repo_id, listing.commit, by_quant[0])
    if len(by_quant) > 1:
        names = ", ".join(c.files[0].filename for c in by_quant)
        raise DownloadError(f"{repo_id} has several {wanted.upper()} models ({names}); name the file.")
    raise DownloadError(
        f"'{wanted}' is neither a file nor a quant of {repo_id}. `hearth quants {repo_id}` lists them."
    )


# The longest suffix a download adds to a file's name in staging (".part.lock", ".part.json").
_STAGING_SUFFIX_BYTES = len(".part.json")


def copy_on_disk(models_dir: Path, repo_id: str, files: Sequence[HubFile]) -> Path | None:
    """The library's copy of these files (its first), when every one is there at the Hub's size."""
    try:
        paths = [library_path_for(models_dir, repo_id, f.filename) for f in files]
    except DownloadError:
        return None
    for path, remote in zip(paths, files, strict=True):
        try:
            size = path.stat().st_size
        except OSError:
            return None
        if remote.size_bytes is not None and size != remote.size_bytes:
            return None
    return paths[0] if paths else None


def library_path_for(models_dir: Path, repo_id: str, filename: str) -> Path:
    """Where a Hub file lives in the library; refuses names that would escape it or are no safe name."""
    check_repo_id(repo_id)
    parts = Path(filename).parts
    if not parts or Path(filename).is_absolute() or any(p in ("..", ".", "") for p in parts):
        raise DownloadError(
            f"Refusing the file name '{printable(filename)}': it would leave the models folder."
        )
    problem = name_problem(filename, max_bytes=NAME_MAX_BYTES - _STAGING_SUFFIX_BYTES)
    if problem is not None:
        raise DownloadError(_refusal(filename, problem))
    repo_dir = (models_dir / repo_id).resolve()
    target = (repo_dir / filename).resolve()
    if not target.is_relative_to(repo_dir):
        raise DownloadError(
            f"Refusing the file name '{printable(filename)}': it would leave the models folder."
        )
    return target


def _refusal(filename: str, problem: str) -> str:
    return (
        f"Refusing the file name '{printable(filename)}': {problem}, so it is not safe as a file "
        "name and Hearth will not download it. The repository's author would have to rename it."
    )


def sha256_of(path: Path, on_bytes: Callable[[int, int], None] | None = None) -> str:
    """``on_bytes(done, total)`` as it reads."""
    digest = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with path.open("rb") as f:
        while chunk := f.read(4 * 1024 * 1024):
            digest.update(chunk)
            done += len(chunk)
            if on_bytes is not None:
                on_bytes(done, total)
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

    def verifying(self, done: int, total: int) -> None:
        """Hashing ``total`` bytes already on disk: reported as its own stage, throttled."""
        with self._lock:
            now = time.monotonic()
            if self._callback and (now - self._last_report >= 0.1 or done == total):
                self._last_report = now
                self._callback(DownloadProgress(done, total, 0.0, stage="verifying"))

    def skip(self, n: int) -> None:
        """Bytes already on disk: counted as done, not as speed."""
        with self._lock:
            self.done += n
            self._window = []

    def snapshot(self) -> DownloadProgress:
        speed = 0.0
        if len(self._window) >= 2:
            (t0, d0), (t1, d1) = self._window[0], self._window[-1]
            if t1 > t0:
                speed = (d1 - d0) / (t1 - t0)
        return DownloadProgress(self.done, self.total, speed)


def _progress_class(meter: _Meter) -> type[hf_tqdm]:
    load_huggingface_hub()
    from huggingface_hub.utils.tqdm import tqdm as hf_tqdm

    class _Bar(hf_tqdm):
        _meter: ClassVar[_Meter] = meter

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True  # Hearth draws its own progress
            super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]

        def update(self, n: float | None = 1) -> bool | None:
            self._meter.add(int(n or 0))
            return None

    return _Bar


class ServerSentTooMuch(DownloadError):
    """The server sent more than the file's listed size."""


class ServerKeepsRestarting(DownloadError):
    """The server ignores resuming and keeps breaking off."""


# huggingface_hub rewinds the file when a server ignores Range, and its retry count starts
# again whenever bytes arrive: a server that ignores Range and breaks off would loop for ever.
MAX_REWINDS = 3


class _HashingFile:
    """The ``.part`` file, hashing what is written so the check after the download is free.

    It never grows past ``limit``, the file's listed size, whatever the server sends.
    """

    def __init__(
        self, path: Path, *, limit: int, name: str, on_hashed: Callable[[int, int], None] | None = None
    ) -> None:
        self._f: IO[bytes] = path.open("r+b" if path.exists() else "w+b")
        self._digest = hashlib.sha256()
        self._limit = limit
        self._name = name
        self._rewinds = 0
        self._on_hashed = on_hashed
        self._rehash()

    def _rehash(self) -> None:
        """What is already in the part (a resumed download) is hashed first: seconds for gigabytes."""
        end = self._f.seek(0, 2)
        self._f.seek(0)
        self._digest = hashlib.sha256()
        while self._f.tell() < end and (chunk := self._f.read(min(4 * 1024 * 1024, end - self._f.tell()))):
            self._digest.update(chunk)
            if self._on_hashed is not None:
                self._on_hashed(self._f.tell(), end)

    def write(self, data: bytes) -> int:
        if self._f.tell() + len(data) > self._limit:
            raise ServerSentTooMuch(
                f"The Hub server sent more than the listed size of '{self._name}' "
                f"({format_bytes(self._limit)}), so the download was stopped before writing more. "
                "The server is misbehaving; try again later."
            )
        self._digest.update(data)
        return self._f.write(data)

    def tell(self) -> int:
        return self._f.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def truncate(self, size: int | None = None) -> int:
        # http_get rewinds when a server ignores Range: the hash must restart with the file.
        self._rewinds += 1
        if self._rewinds > MAX_REWINDS:
            raise ServerKeepsRestarting(
                f"The Hub server broke off sending '{self._name}' {self._rewinds} times and would not "
                "go on from where it stopped, so the download was stopped. Try again later."
            )
        result = self._f.truncate(size)
        self._rehash()
        return result

    def flush(self) -> None:
        self._f.flush()

    def hexdigest(self) -> str:
        return self._digest.hexdigest()

    def close(self) -> None:
        self._f.close()


def _check_free_space(folder: Path, needed: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    # A margin, so the download never fills the disk to the last byte.
    if free < needed + 64 * 1024 * 1024:
        raise DownloadError(
            f"Not enough free disk space in {folder}: the download needs {format_bytes(needed)} more, "
            f"{format_bytes(free)} is free. Free some space or choose another models folder."
        )


def part_path(staging_dir: Path, repo_id: str, filename: str) -> Path:
    return staging_dir / repo_id / (filename + ".part")


def discard_partial(staging_dir: Path, repo_id: str, filename: str) -> None:
    """Forget a download's partial data (a cancel that should not be resumed)."""
    part = part_path(staging_dir, repo_id, filename)
    part.unlink(missing_ok=True)
    part.with_name(part.name + ".json").unlink(missing_ok=True)


def _partial_size(part: Path, remote: HubFile, revision: str | None) -> int:
    """Bytes of a matching earlier attempt; a part of another version is dropped."""
    sidecar = part.with_name(part.name + ".json")
    try:
        recorded = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        recorded = None
    expected = {"sha256": remote.sha256, "size": remote.size_bytes}
    if recorded != expected or not part.exists():
        part.unlink(missing_ok=True)
        part.parent.mkdir(parents=True, exist_ok=True)
        sidecar.write_text(json.dumps(expected))
        return 0
    size = part.stat().st_size
    if remote.size_bytes is not None and size > remote.size_bytes:
        part.unlink()
        return 0
    return size


def _fetch(plan: DownloadPlan, remote: HubFile, part: Path, meter: _Meter) -> str:
    """Fetch one file into its ``.part``, resuming; returns the sha256 of what is there."""
    load_huggingface_hub()
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

    url = hf_hub_url(plan.repo_id, remote.filename, revision=plan.revision, endpoint=hub_endpoint())
    with answer_limits():
        metadata = get_hf_file_metadata(url, endpoint=hub_endpoint())
    size = remote.size_bytes if remote.size_bytes is not None else metadata.size
    if size is None:
        raise DownloadError(
            f"The Hub did not say how big '{remote.filename}' is, so Hearth cannot bound the download. "
            "Try again later."
        )
    headers = build_hf_headers()
    if urlsplit(metadata.location).netloc != urlsplit(url).netloc:
        headers.pop("authorization", None)  # never send the token to a CDN
    headers["Accept-Encoding"] = "identity"  # a compressed body would be bounded by nothing
    resume = _partial_size(part, remote, plan.revision)
    meter.skip(resume)
    out = _HashingFile(part, limit=size, name=remote.filename, on_hashed=meter.verifying)
    try:
        out.seek(0, 2)
        with download_limits():
            http_get(
                metadata.location,
                out,  # type: ignore[arg-type]
                resume_size=resume,
                headers=headers,
                expected_size=size,
                displayed_filename=remote.filename,
                tqdm_class=_progress_class(meter),
            )
        out.flush()
        return out.hexdigest()
    finally:
        out.close()


def download_plan(
    plan: DownloadPlan,
    *,
    models_dir: Path,
    staging_dir: Path,
    provenance: ProvenanceStore,
    on_progress: ProgressCallback | None = None,
    wait_for_lock: bool = False,
    on_waiting: Callable[[], None] | None = None,
) -> Path:
    """Fetch every file of the plan into the library; returns the (first) model file. Idempotent."""
    for f in plan.files:
        if f.problem is not None:
            raise DownloadError(_refusal(f.filename, f.problem))
    targets = [library_path_for(models_dir, plan.repo_id, f.filename) for f in plan.files]
    checking = _Meter(None, on_progress)  # hashing a copy already in the library, reported as such
    todo = [
        (f, t)
        for f, t in zip(plan.files, targets, strict=True)
        if not _verified(plan, f, t, provenance, checking.verifying)
    ]
    if not todo:
        return targets[0]
    for _remote, target in todo:
        if target.exists():
            # Never replace a model in place: it may be loaded, and it is the user's to delete.
            raise DownloadError(
                f"{target.name} is already in the library but differs from the Hub's version "
                f"(an older or damaged copy). Delete it from the library first, then download again."
            )

    load_huggingface_hub()
    from filelock import FileLock, Timeout
    from huggingface_hub import constants as hf_constants

    hf_constants.DOWNLOAD_CHUNK_SIZE = PROGRESS_CHUNK_BYTES
    ensure_reachable()
    total = sum(f.size_bytes or 0 for f in plan.files)
    meter = _Meter(total or None, on_progress)
    meter.skip(sum(f.size_bytes or 0 for f, t in zip(plan.files, targets, strict=True) if (f, t) not in todo))
    remaining = sum(
        (f.size_bytes or 0) - _existing(part_path(staging_dir, plan.repo_id, f.filename)) for f, _ in todo
    )
    _check_free_space(staging_dir, remaining)
    if models_dir.resolve().anchor != staging_dir.resolve().anchor:
        _check_free_space(models_dir, remaining)

    for remote, target in todo:
        part = part_path(staging_dir, plan.repo_id, remote.filename)
        part.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(part.with_name(part.name + ".lock")))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if not wait_for_lock:
                raise AlreadyDownloading(
                    f"{remote.filename} is already being downloaded by another Hearth process "
                    "(the app or `hearth pull`); it will appear in the library when that finishes."
                ) from None
            if on_waiting:
                on_waiting()
            lock.acquire()
        try:
            if _verified(plan, remote, target, provenance):  # the other process finished it meanwhile
                meter.skip(remote.size_bytes or 0)
                continue
            try:
                digest = _with_retries(lambda r=remote, p=part: _fetch(plan, r, p, meter))  # type: ignore[misc]
            except (ServerSentTooMuch, ServerKeepsRestarting, ServerMisbehaved):
                discard_partial(staging_dir, plan.repo_id, remote.filename)  # its bytes can't be trusted
                raise
            except (HubError, DownloadError):
                raise
            except OSError as exc:
                if exc.errno == 28:  # ENOSPC
                    raise DownloadError(
                        "The disk filled up during the download; it was stopped. Free some space and "
                        "try again: it goes on from where it stopped."
                    ) from exc
                raise describe_hub_error(exc, repo_id=plan.repo_id) from exc
            except Exception as exc:
                raise describe_hub_error(exc, repo_id=plan.repo_id) from exc
            size = part.stat().st_size
            if (remote.size_bytes is not None and size != remote.size_bytes) or (
                remote.sha256 is not None and digest != remote.sha256
            ):
                discard_partial(staging_dir, plan.repo_id, remote.filename)
                raise DownloadError(
                    f"The downloaded '{remote.filename}' does not match the size and checksum the Hub lists "
                    "for it, so it was discarded. Try the download again."
                )
            _move_into_library(part, target)
            part.with_name(part.name + ".json").unlink(missing_ok=True)
            provenance.record(
                target, repo_id=plan.repo_id, filename=remote.filename, revision=plan.revision, sha256=digest
            )
        finally:
            lock.release()
    if on_progress:
        on_progress(DownloadProgress(meter.total or meter.done, meter.total, 0.0))
    return targets[0]


RETRY_WAITS_S = (0.5, 1.0, 2.0, 4.0)


def _with_retries(fetch: Callable[[], str]) -> str:
    """A server error (5xx) or rate limit (429) is tried again a few times, with growing waits.

    Each attempt resumes from what is already in the ``.part`` file.
    """
    load_huggingface_hub()
    from huggingface_hub.errors import HfHubHTTPError

    for wait in (*RETRY_WAITS_S, None):
        try:
            return fetch()
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if wait is None or status is None or not (status == 429 or status >= 500):
                raise
            time.sleep(wait)
    raise AssertionError("unreachable")


def _existing(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _verified(
    plan: DownloadPlan,
    remote: HubFile,
    target: Path,
    provenance: ProvenanceStore,
    on_bytes: Callable[[int, int], None] | None = None,
) -> bool:
    """In the library already, as the Hub has it: by record when unchanged, else by hashing."""
    if not target.is_file():
        return False
    if remote.size_bytes is not None and target.stat().st_size != remote.size_bytes:
        return False
    record = provenance.get(target)
    if record is not None and record.still_matches() and record.sha256 == remote.sha256:
        return True
    if remote.sha256 is None or sha256_of(target, on_bytes) == remote.sha256:
        provenance.record(
            target,
            repo_id=plan.repo_id,
            filename=remote.filename,
            revision=plan.revision,
            sha256=remote.sha256,
        )
        return True
    return False


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


def pull(
    repo_id: str,
    wanted: str,
    *,
    on_progress: ProgressCallback | None = None,
    wait_for_lock: bool = False,
    on_waiting: Callable[[], None] | None = None,
) -> Path:
    """A file or quant of a Hub repo into Hearth's models folder (the CLI's and the app's one way)."""
    paths = hearth_paths()
    plan = plan_download(repo_id, wanted)
    provenance = ProvenanceStore(paths.library_db)
    try:
        return download_plan(
            plan,
            models_dir=load_settings(paths).resolved_models_dir(paths),
            staging_dir=paths.staging_dir,
            provenance=provenance,
            on_progress=on_progress,
            wait_for_lock=wait_for_lock,
            on_waiting=on_waiting,
        )
    finally:
        provenance.close()
