from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from desktop.hub.download import DownloadError, DownloadProgress, download_to_library, library_path_for
from desktop.hub.download_process import DownloadOutcome, DownloadProcess
from desktop.hub.errors import HubError, describe_hub_error
from desktop.hub.files import list_files
from desktop.hub.search import search_models
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
    assert (
        files["mmproj-tiny-llama-f16.gguf"].quant is None and not files["mmproj-tiny-llama-f16.gguf"].is_model
    )
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
        download_to_library(
            TEST_REPO, "tiny-llama-F32.gguf", models_dir=models_dir, staging_dir=hearth_paths().staging_dir
        )
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
    staging = hearth_paths().staging_dir
    path = download_to_library(
        TEST_REPO, "tiny-llama-F32.gguf", models_dir=models_dir, staging_dir=staging, on_progress=seen.append
    )
    assert path == models_dir / TEST_REPO / "tiny-llama-F32.gguf"
    assert path.read_bytes() == fake_hub.repos[TEST_REPO].files["tiny-llama-F32.gguf"]
    assert seen and seen[-1].done_bytes == path.stat().st_size == seen[-1].total_bytes
    assert not [p for p in staging.rglob("*") if p.is_file() and p.suffix == ".gguf"]
    gets = fake_hub.get_count("tiny-llama-F32.gguf")
    # Idempotent: a verified file is not fetched again.
    assert (
        download_to_library(TEST_REPO, "tiny-llama-F32.gguf", models_dir=models_dir, staging_dir=staging)
        == path
    )
    assert fake_hub.get_count("tiny-llama-F32.gguf") == gets


def test_wrong_bytes_are_discarded_not_registered(fake_hub: FakeHub, models_dir: Path) -> None:
    fake_hub.set_fault(TEST_REPO, "tiny-llama-F32.gguf", Fault(wrong_bytes=True))
    with pytest.raises(DownloadError, match=r"does not match the size and checksum the Hub lists"):
        download_to_library(
            TEST_REPO, "tiny-llama-F32.gguf", models_dir=models_dir, staging_dir=hearth_paths().staging_dir
        )
    assert not list(models_dir.rglob("*.gguf"))


def test_dropped_connection_fails_cleanly_and_a_retry_succeeds(fake_hub: FakeHub, models_dir: Path) -> None:
    fake_hub.set_fault(TEST_REPO, "tiny-llama-F32.gguf", Fault(drop_after=100_000, times=1))
    staging = hearth_paths().staging_dir
    path: Path | None = None
    try:
        path = download_to_library(
            TEST_REPO, "tiny-llama-F32.gguf", models_dir=models_dir, staging_dir=staging
        )
    except (DownloadError, HubError):
        assert not list(models_dir.rglob("*.gguf"))
        path = download_to_library(
            TEST_REPO, "tiny-llama-F32.gguf", models_dir=models_dir, staging_dir=staging
        )
    assert path.read_bytes() == fake_hub.repos[TEST_REPO].files["tiny-llama-F32.gguf"]


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
    assert not list(hearth_paths().staging_dir.rglob("*.incomplete"))


def test_download_process_delivers_the_file(fake_hub: FakeHub, models_dir: Path) -> None:
    outcomes: list[DownloadOutcome] = []
    job = DownloadProcess(
        TEST_REPO, "tiny-llama.Q8_0.gguf", on_progress=lambda p: None, on_finished=outcomes.append
    )
    job.wait(60)
    assert outcomes == [DownloadOutcome(models_dir / TEST_REPO / "tiny-llama.Q8_0.gguf", None)]
