"""A hostile or broken Hub server: bounded in bytes, time and names, and said in words."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from desktop.hub import limits
from desktop.hub.download import DownloadError, part_path, pull
from desktop.hub.errors import HubError
from desktop.hub.files import list_files
from desktop.hub.remote_header import remote_header
from desktop.hub.search import search_models
from desktop.paths import hearth_paths
from desktop.safe_text import printable
from tests.conftest import TEST_REPO
from tests.fakehub import FakeHub, Fault
from tests.test_cli import hearth

MB = 1024 * 1024


def _staged_bytes() -> int:
    return sum(p.stat().st_size for p in hearth_paths().staging_dir.rglob("*.part"))


@pytest.mark.timeout(60)
def test_a_body_longer_than_the_file_is_stopped_at_its_listed_size(
    fake_hub: FakeHub, models_dir: Path
) -> None:
    data = bytes(range(256)) * 256  # 64 KiB listed; the server goes on for 100 MB more
    fake_hub.add_file(TEST_REPO, "endless-Q4_K_M.gguf", data)
    fake_hub.set_fault(TEST_REPO, "endless-Q4_K_M.gguf", Fault(extra_bytes=100 * MB))
    part = part_path(hearth_paths().staging_dir, TEST_REPO, "endless-Q4_K_M.gguf")
    with pytest.raises(DownloadError, match="The Hub server sent more than the listed size") as info:
        pull(TEST_REPO, "endless-Q4_K_M.gguf")
    assert "disk" not in str(info.value)
    assert not part.exists() and not list(models_dir.rglob("*.gguf"))
    # The client hung up at once: far less than the 100 MB was even sent.
    assert fake_hub.bytes_sent["endless-Q4_K_M.gguf"] < 32 * MB


@pytest.mark.timeout(60)
def test_a_compressed_download_is_refused_in_words(fake_hub: FakeHub, models_dir: Path) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB listed, gzip-encoded with 100 MB of filler
    fake_hub.add_file(TEST_REPO, "bomb-Q4_K_M.gguf", data)
    fake_hub.set_fault(TEST_REPO, "bomb-Q4_K_M.gguf", Fault(gzip=True, extra_bytes=100 * MB))
    with pytest.raises(HubError, match="The Hub server sent a compressed answer"):
        pull(TEST_REPO, "bomb-Q4_K_M.gguf")
    assert _staged_bytes() <= len(data)
    assert not list(models_dir.rglob("*.gguf"))


@pytest.mark.timeout(60)
def test_a_gzip_bomb_in_a_json_answer_stops_at_the_cap(fake_hub: FakeHub) -> None:
    fake_hub.answer_fault = Fault(gzip=True, extra_bytes=128 * MB)  # a few hundred KB on the wire
    tracemalloc.start()
    try:
        with pytest.raises(HubError, match="larger than"):
            search_models("")
        with pytest.raises(HubError, match="larger than"):
            list_files(TEST_REPO)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 * MB


@pytest.mark.timeout(40)
def test_a_trickling_answer_ends_at_the_deadline(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "ANSWER_DEADLINE_S", 2.0)
    fake_hub.answer_fault = Fault(bytes_per_second=1)
    started = time.monotonic()
    with pytest.raises(HubError, match="did not finish answering in 2 s"):
        search_models("")
    assert time.monotonic() - started < 10


@pytest.mark.timeout(60)
def test_the_remote_header_reads_no_more_than_it_asked_for(fake_hub: FakeHub) -> None:
    # Range ignored: a 200 with the whole file, here 64 MB of it, which used to be read into memory.
    fake_hub.set_fault(TEST_REPO, "tiny-llama-F32.gguf", Fault(ignore_range=True, extra_bytes=64 * MB))
    header = remote_header(TEST_REPO, "tiny-llama-F32.gguf")
    assert header.fields["llama.context_length"] == 2048 and header.has_chat_template is True
    assert header.bytes_read < MB  # read until the key-value pairs ended, then hung up
    # counted per whole piece of 1 MiB written: the client may hang up inside the first
    assert fake_hub.bytes_sent.get("tiny-llama-F32.gguf", 0) < 24 * MB


@pytest.mark.timeout(60)
def test_the_remote_header_has_a_deadline(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "ANSWER_DEADLINE_S", 2.0)
    fake_hub.set_fault(TEST_REPO, "tiny-llama-F32.gguf", Fault(bytes_per_second=20))
    with pytest.raises(HubError, match="did not finish answering"):
        remote_header(TEST_REPO, "tiny-llama-F32.gguf")


@pytest.mark.timeout(40)
def test_a_short_body_with_range_ignored_does_not_loop_for_ever(fake_hub: FakeHub, models_dir: Path) -> None:
    # 2 MiB; every answer starts again at 0 and breaks off after a whole 256 KiB piece.
    data = bytes(range(256)) * 4096 * 2
    fake_hub.add_file(TEST_REPO, "loop-Q4_K_M.gguf", data)
    fake_hub.set_fault(TEST_REPO, "loop-Q4_K_M.gguf", Fault(ignore_range=True, drop_after=300_000))
    with pytest.raises(DownloadError, match="would not go on from where it stopped"):
        pull(TEST_REPO, "loop-Q4_K_M.gguf")
    assert not list(models_dir.rglob("*.gguf"))


EVIL = {
    "colour\x1b[31m-Q4_K_M.gguf": "contains control characters",
    "title\x1b]0;pwned\x07-Q5_K_M.gguf": "contains control characters",
    "nul\x00byte-Q8_0.gguf": "contains control characters",
    "x" * 300 + "-Q2_K.gguf": "longer than",
    "y" * 250 + "-Q3_K_M.gguf": "longer than",  # fits the file system, not with ".part.json"
}


def _evil_repo(fake_hub: FakeHub) -> str:
    repo = "hearth-test/Evil-GGUF"
    fake_hub.add_repo(repo)
    for name in EVIL:
        fake_hub.add_file(repo, name, b"GGUF" + b"\0" * 60)
    fake_hub.add_repo("evil/\x1b[2Jclear-GGUF")
    return repo


def test_unsafe_names_are_listed_escaped_and_refused_in_words(fake_hub: FakeHub, models_dir: Path) -> None:
    repo = _evil_repo(fake_hub)
    listing = list_files(repo)
    assert all(f.filename.isprintable() for f in listing.files)
    assert "colour\\x1b[31m-Q4_K_M.gguf" in [f.filename for f in listing.files]
    why = {printable(name): reason for name, reason in EVIL.items()}
    for f in listing.files:
        with pytest.raises(DownloadError, match="Refusing the file name") as info:
            pull(repo, f.filename)
        assert why[f.filename] in str(info.value) and str(info.value).isprintable()
    assert not list(models_dir.rglob("*")) and not list(hearth_paths().staging_dir.rglob("*.part"))
    assert "evil/\\x1b[2Jclear-GGUF" in [m.repo_id for m in search_models("")]


def test_the_cli_prints_no_raw_escapes_and_no_traceback(fake_hub: FakeHub) -> None:
    repo = _evil_repo(fake_hub)
    for args in (("files", repo), ("quants", repo), ("search", "")):
        result = hearth(*args)
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "colour\\x1b[31m-Q4_K_M.gguf" in hearth("files", repo).stdout
    for name in ("nul\\x00byte-Q8_0.gguf", "x" * 300 + "-Q2_K.gguf", "colour\\x1b[31m-Q4_K_M.gguf"):
        result = hearth("pull", repo, name)
        assert result.returncode == 1
        assert result.stderr.startswith("error: Refusing the file name"), result.stderr
        assert "Traceback" not in result.stderr and "\x1b" not in result.stderr
