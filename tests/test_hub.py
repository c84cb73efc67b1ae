from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest

from desktop.gguf.names import is_projector
from desktop.gguf.tiny_model import TinyModelSpec, build_tiny_model
from desktop.hub.describe import describe_hub_error
from desktop.hub.download import (
    AlreadyDownloading,
    DownloadError,
    DownloadProgress,
    library_path_for,
    part_path,
    pull,
)
from desktop.hub.download_process import DownloadOutcome, DownloadProcess
from desktop.hub.errors import HubError
from desktop.hub.files import list_files
from desktop.hub.search import search_models
from desktop.library.provenance import ProvenanceStore
from desktop.paths import hearth_paths
from tests.conftest import TEST_REPO
from tests.fakehub import FakeHub, Fault


def test_search_finds_gguf_repos_sorted(fake_hub: FakeHub) -> None:
    found = search_models("")
    assert [m.repo_id for m in found] == [TEST_REPO, "someone/Other-Model-GGUF"]
    assert found[0].downloads == 1200 and found[0].likes == 34 and found[0].gated is False
    assert found[0].last_modified is not None and found[0].last_modified.year == 2026
    assert [m.repo_id for m in search_models("tiny")] == [TEST_REPO]
    assert next(m.repo_id for m in search_models("", sort="updated")) == TEST_REPO
    assert search_models("", limit=1) == found[:1]


def test_files_with_quant_and_sizes(fake_hub: FakeHub) -> None:
    listing = list_files(TEST_REPO)
    assert listing.commit == fake_hub.repos[TEST_REPO].sha
    files = {f.filename: f for f in listing.files}
    data = fake_hub.repos[TEST_REPO].files["tiny-llama-F32.gguf"]
    f32 = files["tiny-llama-F32.gguf"]
    assert (f32.quant, f32.size_bytes, f32.sha256) == ("F32", len(data), hashlib.sha256(data).hexdigest())
    assert files["tiny-llama.Q8_0.gguf"].quant == "Q8_0"
    assert files["mmproj-tiny-llama-f16.gguf"].quant is None and is_projector("mmproj-tiny-llama-f16.gguf")
    assert files["README.md"].quant is None


def test_unknown_repo_and_bad_ids(fake_hub: FakeHub) -> None:
    with pytest.raises(HubError, match="no model"):
        list_files("nobody/nothing")
    with pytest.raises(HubError, match="not a Hub repository id"):
        list_files("../etc")


def test_unreachable_hub_says_offline() -> None:
    # The autouse fixture points HF_ENDPOINT at a closed port.
    with pytest.raises(HubError) as info:
        search_models("gemma")
    assert info.value.offline
    assert "Can't reach the Hugging Face Hub" in str(info.value)


def test_server_error_is_explained(fake_hub: FakeHub, models_dir: Path) -> None:
    fake_hub.set_fault(TEST_REPO, "", Fault(status=503))
    with pytest.raises(HubError, match="problem answering"):
        pull(TEST_REPO, "tiny-llama-F32.gguf")
    assert not list(models_dir.rglob("*.gguf"))


def test_wrapped_http_errors_are_explained_by_their_root() -> None:
    from huggingface_hub.errors import LocalEntryNotFoundError

    assert "Can't reach" in str(describe_hub_error(LocalEntryNotFoundError("x")))
    try:
        try:
            raise ConnectionRefusedError(111, "refused")
        except OSError as inner:
            raise LocalEntryNotFoundError("cannot find the requested files") from inner
    except LocalEntryNotFoundError as outer:
        described = describe_hub_error(outer)
    assert described.offline


def test_download_lands_in_library_after_verification(fake_hub: FakeHub, models_dir: Path) -> None:
    seen: list[DownloadProgress] = []
    path = pull(TEST_REPO, "tiny-llama-F32.gguf", on_progress=seen.append)
    assert path == models_dir / TEST_REPO / "tiny-llama-F32.gguf"
    assert path.read_bytes() == fake_hub.repos[TEST_REPO].files["tiny-llama-F32.gguf"]
    assert seen and seen[-1].done_bytes == path.stat().st_size == seen[-1].total_bytes
    staging = hearth_paths().staging_dir
    assert not [p for p in staging.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    record = ProvenanceStore(hearth_paths().library_db).get(path)
    assert record is not None and record.repo_id == TEST_REPO
    assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    gets = fake_hub.get_count("tiny-llama-F32.gguf")
    # Idempotent: a verified file is not fetched again.
    assert pull(TEST_REPO, "tiny-llama-F32.gguf") == path
    assert fake_hub.get_count("tiny-llama-F32.gguf") == gets


def test_pull_by_quant_name(fake_hub: FakeHub, models_dir: Path) -> None:
    assert pull(TEST_REPO, "q8_0") == models_dir / TEST_REPO / "tiny-llama.Q8_0.gguf"
    with pytest.raises(DownloadError, match="neither a file nor a quant"):
        pull(TEST_REPO, "Q5_K_M")


def test_wrong_bytes_are_discarded_not_registered(fake_hub: FakeHub, models_dir: Path) -> None:
    fake_hub.set_fault(TEST_REPO, "tiny-llama-F32.gguf", Fault(wrong_bytes=True))
    with pytest.raises(DownloadError, match=r"does not match the size and checksum the Hub lists"):
        pull(TEST_REPO, "tiny-llama-F32.gguf")
    assert not list(models_dir.rglob("*.gguf"))
    assert not list(hearth_paths().staging_dir.rglob("*.part"))


def test_dropped_connections_resume_where_they_stopped(fake_hub: FakeHub, models_dir: Path) -> None:
    data = bytes(range(256)) * 4096 * 2  # 2 MiB
    fake_hub.add_file(TEST_REPO, "big-Q4_K_M.gguf", data)
    fake_hub.set_fault(TEST_REPO, "big-Q4_K_M.gguf", Fault(drop_after=300_000))  # every connection
    path = pull(TEST_REPO, "big-Q4_K_M.gguf")
    assert path.read_bytes() == data
    resumed = [int(r.removeprefix("bytes=").rstrip("-")) for r in fake_hub.ranges]
    assert len(resumed) >= 5 and resumed == sorted(resumed) and resumed[0] > 0


def test_a_killed_download_resumes_from_its_partial_file(fake_hub: FakeHub, models_dir: Path) -> None:
    data = bytes(range(256)) * 4096 * 8  # 8 MiB
    fake_hub.add_file(TEST_REPO, "big-Q4_K_M.gguf", data)
    fake_hub.set_fault(TEST_REPO, "big-Q4_K_M.gguf", Fault(bytes_per_second=4_000_000))
    outcomes: list[DownloadOutcome] = []
    job = DownloadProcess(TEST_REPO, "Q4_K_M", on_progress=lambda p: None, on_finished=outcomes.append)
    part = part_path(hearth_paths().staging_dir, TEST_REPO, "big-Q4_K_M.gguf")
    deadline = time.monotonic() + 20
    while (not part.exists() or part.stat().st_size < len(data) // 2) and time.monotonic() < deadline:
        time.sleep(0.02)
    job.cancel(keep_partial=True)  # as a pause, or a crash
    job.wait(5)
    assert outcomes == [DownloadOutcome(None, None, cancelled=True)]
    kept = part.stat().st_size
    assert kept >= len(data) // 2
    fake_hub.set_fault(TEST_REPO, "big-Q4_K_M.gguf", None)
    reports: list[DownloadProgress] = []
    assert pull(TEST_REPO, "Q4_K_M", on_progress=reports.append).read_bytes() == data
    assert fake_hub.ranges[-1] == f"bytes={kept}-"  # nothing fetched twice
    # The part on disk is hashed first, and said to be: a stage of its own, then the download
    stages = [r.stage for r in reports]
    assert stages[0] == "verifying" and stages[-1] == "downloading"
    assert [r for r in reports if r.stage == "verifying"][-1].done_bytes == kept
    assert stages.index("downloading") > max(i for i, s in enumerate(stages) if s == "verifying")


def test_a_stale_partial_of_another_version_is_not_reused(fake_hub: FakeHub, models_dir: Path) -> None:
    part = part_path(hearth_paths().staging_dir, TEST_REPO, "tiny-llama-F32.gguf")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"GGUF old version")
    part.with_name(part.name + ".json").write_text('{"sha256": "0000", "size": 16}')
    path = pull(TEST_REPO, "tiny-llama-F32.gguf")
    assert path.read_bytes() == fake_hub.repos[TEST_REPO].files["tiny-llama-F32.gguf"]


def test_a_sharded_model_downloads_as_one(fake_hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    first = build_tiny_model(tmp_path / "split" / "Big-Q8_0.gguf", TinyModelSpec(split_max_tensors=10))
    parts = sorted(first.parent.glob("*.gguf"))
    for shard in parts:
        fake_hub.add_file(TEST_REPO, f"Q8_0/{shard.name}", shard)
    seen: list[DownloadProgress] = []
    path = pull(TEST_REPO, f"Q8_0/{parts[1].name}", on_progress=seen.append)
    assert path == models_dir / TEST_REPO / "Q8_0" / parts[0].name
    assert sorted(p.name for p in path.parent.iterdir()) == [p.name for p in parts]
    assert seen[-1].total_bytes == sum(p.stat().st_size for p in parts)


def test_two_downloads_of_one_file_do_not_collide(fake_hub: FakeHub, models_dir: Path) -> None:
    fake_hub.set_fault(TEST_REPO, "tiny-llama-F32.gguf", Fault(bytes_per_second=400_000))
    results: list[object] = []
    waited = threading.Event()

    def second() -> None:
        try:
            results.append(pull(TEST_REPO, "tiny-llama-F32.gguf", wait_for_lock=True, on_waiting=waited.set))
        except Exception as exc:
            results.append(exc)

    worker = threading.Thread(target=lambda: results.append(pull(TEST_REPO, "tiny-llama-F32.gguf")))
    worker.start()
    deadline = time.monotonic() + 10
    part = part_path(hearth_paths().staging_dir, TEST_REPO, "tiny-llama-F32.gguf")
    while not part.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(AlreadyDownloading, match="already being downloaded"):
        pull(TEST_REPO, "tiny-llama-F32.gguf")
    waiter = threading.Thread(target=second)
    waiter.start()
    worker.join(20)
    waiter.join(20)
    target = models_dir / TEST_REPO / "tiny-llama-F32.gguf"
    assert waited.is_set() and results == [target, target]
    assert target.read_bytes() == fake_hub.repos[TEST_REPO].files["tiny-llama-F32.gguf"]
    assert fake_hub.get_count("tiny-llama-F32.gguf") == 1


def test_paths_that_leave_the_library_are_refused(models_dir: Path) -> None:
    for name in ("../evil.gguf", "/etc/passwd", "a/../../b.gguf", ""):
        with pytest.raises(DownloadError, match="Refusing"):
            library_path_for(models_dir, "owner/repo", name)
    with pytest.raises(HubError):
        library_path_for(models_dir, "owner/..", "x.gguf")


def test_download_process_reports_progress_and_cancels_at_once(fake_hub: FakeHub, models_dir: Path) -> None:
    big = bytes(range(256)) * 4096 * 8  # 8 MiB
    fake_hub.add_file(TEST_REPO, "slow-Q4_K_M.gguf", big)
    fake_hub.set_fault(TEST_REPO, "slow-Q4_K_M.gguf", Fault(bytes_per_second=1_500_000))
    progress: list[DownloadProgress] = []
    outcomes: list[DownloadOutcome] = []
    job = DownloadProcess(
        TEST_REPO, "slow-Q4_K_M.gguf", on_progress=progress.append, on_finished=outcomes.append
    )
    deadline = time.monotonic() + 30
    while not progress and time.monotonic() < deadline:
        time.sleep(0.05)
    assert progress and progress[-1].total_bytes == len(big)
    started = time.monotonic()
    job.cancel()
    job.wait(5)
    assert time.monotonic() - started < 1.0
    assert outcomes == [DownloadOutcome(None, None, cancelled=True)]
    assert not list(models_dir.rglob("*.gguf"))
    assert not list(hearth_paths().staging_dir.rglob("*.part"))  # a cancel forgets the partial data


def test_download_process_delivers_the_file(fake_hub: FakeHub, models_dir: Path) -> None:
    outcomes: list[DownloadOutcome] = []
    job = DownloadProcess(
        TEST_REPO, "tiny-llama.Q8_0.gguf", on_progress=lambda p: None, on_finished=outcomes.append
    )
    job.wait(60)
    assert outcomes == [DownloadOutcome(models_dir / TEST_REPO / "tiny-llama.Q8_0.gguf", None)]


def test_a_different_file_in_the_library_is_never_overwritten(fake_hub: FakeHub, models_dir: Path) -> None:
    target = models_dir / TEST_REPO / "tiny-llama-F32.gguf"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"GGUF an older, different version")
    with pytest.raises(DownloadError, match="Delete it from the library first"):
        pull(TEST_REPO, "tiny-llama-F32.gguf")
    assert target.read_bytes() == b"GGUF an older, different version"
    assert fake_hub.get_count("tiny-llama-F32.gguf") == 0


def test_server_errors_are_retried_then_reported(fake_hub: FakeHub, models_dir: Path, monkeypatch) -> None:
    from desktop.hub import download

    monkeypatch.setattr(download, "RETRY_WAITS_S", (0.05, 0.05, 0.05, 0.05))
    fake_hub.set_fault(TEST_REPO, "tiny-llama-F32.gguf", Fault(status=503, times=3))
    path = pull(TEST_REPO, "tiny-llama-F32.gguf")  # three 503s, then it goes through
    assert path.read_bytes() == fake_hub.repos[TEST_REPO].files["tiny-llama-F32.gguf"]
    fake_hub.set_fault(TEST_REPO, "tiny-llama.Q8_0.gguf", Fault(status=502))
    with pytest.raises(HubError, match="problem answering"):
        pull(TEST_REPO, "tiny-llama.Q8_0.gguf")
    heads = [p for m, p in fake_hub.requests if m == "HEAD" and p.endswith("tiny-llama.Q8_0.gguf")]
    assert len(heads) == 5  # the first try and four retries
