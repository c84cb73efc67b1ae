"""Fixtures: every test runs with Hearth's folders, HOME and the Hugging Face folders redirected."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

# huggingface_hub reads HF_HOME (its token store and cache) once, at import: point it at a
# throw-away folder before anything imports it, so no test can touch the real token.
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="hearth-tests-hf-home-")
os.environ.pop("HF_TOKEN", None)

import pytest
from gguf import LlamaFileType

from desktop.compare.quantize import output_name, quantize
from desktop.gguf.tiny_model import TinyModelSpec, build_tiny_model
from tests.fakehub import FakeHub

TEST_REPO = "hearth-test/Tiny-Llama-GGUF"


MEASURED_BYTES_PER_S = 10e9  # a 2-core laptop's rate, as the speed probe would find it


def measured_machine(rate: float = MEASURED_BYTES_PER_S) -> None:
    """This computer as the speed probe measured it (its cache file, for this hardware)."""
    from desktop.app.machine_speed import CACHE_NAME, fingerprint
    from desktop.app.speed_probe import PROBE_VERSION
    from desktop.paths import hearth_paths

    cache = hearth_paths().cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    record = {
        "probe_version": PROBE_VERSION,
        "cpu_bytes_per_s": rate,
        "probe_bytes": 153_000_000,
        "fingerprint": fingerprint(),
    }
    (cache / CACHE_NAME).write_text(json.dumps(record))


@pytest.fixture(autouse=True)
def hearth_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    home = tmp_path / "hearth-home"
    monkeypatch.setenv("HEARTH_HOME", str(home))
    if request.node.get_closest_marker("unmeasured") is None:
        # Measured before, as a machine is after its first minute: the probe (a few seconds of
        # llama.cpp) runs only in the tests that are about it.
        measured_machine()
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    # Nothing in a test may reach the real Hub: unless a test starts the fake one,
    # the endpoint is a closed port on loopback.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return home


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Builds each distinct tiny model once per session and hands out its path."""
    folder = tmp_path_factory.mktemp("tiny-models")
    built: dict[str, Path] = {}

    def make(name: str = "tiny-llama-F32.gguf", **spec: object) -> Path:
        key = name + repr(sorted(spec.items()))
        if key not in built:
            sub = folder / f"m{len(built)}"
            built[key] = build_tiny_model(sub / name, TinyModelSpec(**spec))  # type: ignore[arg-type]
        return built[key]

    return make


@pytest.fixture(scope="session")
def wide_quants(
    model_cache: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """One set of 256-wide weights (so K-quants are real) as F16, Q8_0 and Q4_K_M."""
    source = model_cache(
        "Wide-F16.gguf", n_embd=256, n_ff=256, file_type=LlamaFileType.MOSTLY_F16, output_scale=0.05
    )
    folder = tmp_path_factory.mktemp("quants")
    made = {"F16": source}
    for kind in ("Q8_0", "Q4_K_M"):
        made[kind] = folder / output_name(source, kind)
        quantize(source, made[kind], kind, threads=2)
    return made


@pytest.fixture
def tiny_model(model_cache: Callable[..., Path]) -> Path:
    return model_cache()


@pytest.fixture
def models_dir(hearth_home: Path) -> Path:
    folder = hearth_home / "data" / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch, model_cache: Callable[..., Path]) -> Iterator[FakeHub]:
    hub = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    hub.add_repo(TEST_REPO, downloads=1200, likes=34, last_modified="2026-10-01T12:00:00.000Z")
    hub.add_file(TEST_REPO, "tiny-llama-F32.gguf", model_cache())
    hub.add_file(TEST_REPO, "tiny-llama.Q8_0.gguf", model_cache("tiny-llama.Q8_0.gguf", seed=7))
    hub.add_file(TEST_REPO, "mmproj-tiny-llama-f16.gguf", b"GGUF" + b"\0" * 60)
    hub.add_file(TEST_REPO, "README.md", b"# Tiny Llama\n")
    hub.add_repo("someone/Other-Model-GGUF", downloads=50, likes=2, last_modified="2025-03-01T00:00:00.000Z")
    hub.add_file("someone/Other-Model-GGUF", "other-q4_k_m.gguf", b"GGUF" + b"\0" * 100)
    hub.add_repo("someone/not-gguf", downloads=999999, tags=["safetensors"])
    yield hub
    hub.stop()


@pytest.fixture
def tmpfs() -> Iterator[Callable[..., Path]]:
    """``tmpfs(folder, size, read_only=False)`` mounts a file system of ``size`` bytes there:
    a disk that really fills up or refuses writes (root bypasses file permissions, so a
    read-only file is not enough). Unmounted after the test; where mounting is not allowed
    (not root), the test is skipped saying so. .ci/run runs as root, so these tests run there."""
    mounted: list[Path] = []

    def mount(folder: Path, size: int, *, read_only: bool = False) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        options = f"size={size}" + (",ro" if read_only else "")
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True
        )
        if result.returncode != 0:
            pytest.skip(f"a full or read-only disk needs mount -t tmpfs (root): {result.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def run_env() -> dict[str, str]:
    """The environment for a ``hearth`` subprocess: the test's redirections included."""
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    return env
