"""Offline mode and gated repositories."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.hub.download import pull
from desktop.hub.errors import HubError
from desktop.hub.files import list_files
from desktop.hub.quants import quant_report
from desktop.hub.search import search_models
from desktop.hub.token import has_token, save_token
from desktop.settings import load_settings, save_settings
from tests.conftest import TEST_REPO
from tests.fakehub import FakeHub


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Fails the test on any attempt to connect anywhere."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise AssertionError(f"a connection was attempted to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_offline_setting_opens_no_socket(fake_hub: FakeHub, no_sockets: list[object]) -> None:
    settings = load_settings()
    settings.offline = True
    save_settings(settings)
    calls = (
        lambda: search_models("tiny"),
        lambda: list_files(TEST_REPO),
        lambda: quant_report(TEST_REPO),
        lambda: pull(TEST_REPO, "Q8_0"),
        lambda: save_token("hf_valid_test_token"),
    )
    for call in calls:
        with pytest.raises(HubError, match="Offline mode is on") as info:
            call()
        assert info.value.offline
    assert no_sockets == [] and fake_hub.requests == []


@pytest.fixture
def token_store() -> Iterator[None]:
    """huggingface_hub's token files, emptied after the test (they live in the session's HF_HOME)."""
    from huggingface_hub import constants

    yield
    for name in (constants.HF_TOKEN_PATH, constants.HF_STORED_TOKENS_PATH):
        Path(name).unlink(missing_ok=True)


def test_gated_repo_needs_a_token(fake_hub: FakeHub, models_dir: Path, token_store: None) -> None:
    fake_hub.repos[TEST_REPO].gated = "manual"
    assert "README.md" in {f.filename for f in list_files(TEST_REPO).files}  # metadata is public
    with pytest.raises(HubError, match="is gated: accept its licence"):
        pull(TEST_REPO, "Q8_0")
    assert not list(models_dir.rglob("*.gguf"))
    assert not has_token()
    with pytest.raises(HubError, match="did not accept that token"):
        save_token("hf_wrong")
    assert save_token("  hf_valid_test_token\n") == "tester"
    assert has_token()
    assert "README.md" in {f.filename for f in list_files(TEST_REPO).files}
    assert pull(TEST_REPO, "Q8_0") == models_dir / TEST_REPO / "tiny-llama.Q8_0.gguf"
    assert search_models("tiny")[0].gated == "manual"
