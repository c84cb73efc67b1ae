"""The speed probe: measured once in an engine worker, cached by hardware, calibrated by bench runs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from gguf import LlamaFileType

from desktop.app.machine_speed import (
    CACHE_NAME,
    cached_machine_speed,
    calibration,
    fingerprint,
    machine_speed,
)
from desktop.app.speed_probe import PROBE_VERSION, SMALL_MODEL
from desktop.compare.results import CompareStore, machine_info
from desktop.gguf.header import read_header
from desktop.gguf.speed import RATE_KINDS, TokenReads, explain, predict_tg_tps, predicted_seconds, token_reads
from desktop.gguf.tiny_model import TinyModelSpec, build_tiny_model
from desktop.paths import hearth_paths
from tests.conftest import measured_machine

GB = 1_000_000_000


@pytest.mark.unmeasured
def test_the_probe_measures_once_and_keeps_it_for_this_hardware() -> None:
    paths = hearth_paths()
    assert cached_machine_speed(paths) is None
    guess = machine_speed(paths, probe=False)
    assert not guess.measured and "not measured" in guess.note
    assert not (paths.cache_dir / CACHE_NAME).exists()

    # An older probe's model, left in the cache folder, is not kept.
    paths.cache_dir.mkdir(parents=True, exist_ok=True)
    (paths.cache_dir / "speed-probe-small-v2.gguf").write_bytes(b"GGUF")
    said: list[str] = []
    measured = machine_speed(paths, progress=said.append)
    assert measured.measured and said
    # Any computer that runs Hearth reads weights faster than 100 MB/s and slower than 2 TB/s.
    assert 1e8 < measured.cpu_bytes_per_s < 2e12
    kept = json.loads((paths.cache_dir / CACHE_NAME).read_text())
    assert kept["fingerprint"] == fingerprint() and kept["probe_bytes"] > 100_000_000
    # A rate for each kind of weight, each of them plausible.
    assert set(kept["rates"]) == set(RATE_KINDS)
    assert all(1e8 < measured.rate(kind) < 2e12 for kind in RATE_KINDS)
    # The small probe model stays in the caches: far quicker a token, so the fixed time is small.
    assert all(kept["small_probe_tg_tps"] > tps for tps in kept["probe_tg_tps"].values())
    assert 0 <= kept["per_token_s"] < 0.05
    # Short rows cost some nanoseconds each beyond their bytes.
    assert 0 <= kept["per_row_s"] < 1e-6
    assert cached_machine_speed(paths) == measured
    assert "timed llama.cpp" in measured.note
    # The large probe models are not kept (some 700 MB), nor an older probe's; the small one is.
    assert [p.name for p in paths.cache_dir.glob("speed-probe-*")] == [SMALL_MODEL.name]

    # A cache from the earlier probe (one rate for every kind) is measured again.
    (paths.cache_dir / CACHE_NAME).write_text(json.dumps({**kept, "probe_version": PROBE_VERSION - 1}))
    assert cached_machine_speed(paths) is None
    (paths.cache_dir / CACHE_NAME).write_text(json.dumps(kept))

    # Other hardware (another CPU in the fingerprint): the kept rate no longer counts.
    kept["fingerprint"]["cpu"] = "Some Other CPU"
    (paths.cache_dir / CACHE_NAME).write_text(json.dumps(kept))
    assert cached_machine_speed(paths) is None
    assert not machine_speed(paths, probe=False).measured


def test_speed_runs_calibrate_the_builds_of_the_model_they_measured(tmp_path: Path, tiny_model: Path) -> None:
    paths = hearth_paths()
    measured_machine(10 * GB)
    plain = cached_machine_speed(paths)
    assert plain is not None and not plain.scales and plain.cpu_bytes_per_s == 10 * GB

    def reads(path: Path) -> TokenReads:
        header = read_header(path)
        return token_reads(
            path.stat().st_size, header.fields, weight_reads=header.weight_reads, quant=header.quant
        )

    # Another build of the same model (16-bit, the same shape), and another model.
    sibling = build_tiny_model(tmp_path / "tiny-F16.gguf", TinyModelSpec(file_type=LlamaFileType.MOSTLY_F16))
    other = build_tiny_model(tmp_path / "wider.gguf", TinyModelSpec(n_embd=128))
    assert reads(sibling).shape_key == reads(tiny_model).shape_key != reads(other).shape_key
    seconds = predicted_seconds(reads(tiny_model), plain)
    size = tiny_model.stat().st_size

    def tps_taking(share: float) -> float:
        """A speed run whose tokens took ``share`` of the predicted time."""
        return 1.0 / (seconds * share)

    paths.data_dir.mkdir(parents=True, exist_ok=True)
    store = CompareStore(paths.compare_db)
    here = machine_info()
    # An old run of the same file (superseded by the newer one), one from another machine
    # (ignored), and one of a file that is gone (ignored).
    store.add_run(
        "bench", here, {"reps": 1}, [(str(tiny_model), "tiny", "F32", size, {"tg_tps": [tps_taking(3.0)]})]
    )
    store.add_run(
        "bench",
        {**here, "cpu": "Another CPU"},
        {"reps": 1},
        [(str(tiny_model), "tiny", "F32", size, {"tg_tps": [tps_taking(4.0)]})],
    )
    newer = [tps_taking(1.2), tps_taking(1.25), tps_taking(1.3)]
    store.add_run(
        "bench",
        here,
        {"reps": 3},
        [
            (str(tiny_model), "tiny", "F32", size, {"tg_tps": newer}),
            ("/gone/other.gguf", "other", "Q4_0", 2 * size, {"tg_tps": [1.0]}),
        ],
    )
    store.close()
    scales, runs = calibration(paths, plain)
    assert runs == 1 and scales == {reads(tiny_model).shape_key: pytest.approx(1.25)}
    tuned = cached_machine_speed(paths)
    assert tuned is not None and "calibrated by 1 speed run" in tuned.note
    # The measured build, and its sibling, take a quarter longer than predicted; the other model
    # does not.
    assert predict_tg_tps(reads(tiny_model), tuned) == pytest.approx(tps_taking(1.25))
    sibling_s = predicted_seconds(reads(sibling), plain)
    assert predict_tg_tps(reads(sibling), tuned) == pytest.approx(1.0 / (sibling_s * 1.25))
    assert predict_tg_tps(reads(other), tuned) == pytest.approx(predict_tg_tps(reads(other), plain))
    assert "speed runs of this model here took 25% longer than that" in explain(reads(sibling), tuned, 10.0)


def test_the_probe_s_models_are_holes_that_llama_cpp_reads_as_weights(tmp_path: Path) -> None:
    from desktop.app.client_engine import ClientTasks

    spec = TinyModelSpec(
        n_vocab=4096, n_embd=512, n_ff=2048, chat_template=None, zero_weights=True, tied_output=True
    )
    made = {
        kind: build_tiny_model(tmp_path / f"{kind}.gguf", replace(spec, file_type=kind))
        for kind in (LlamaFileType.MOSTLY_F16, LlamaFileType.MOSTLY_Q8_0, LlamaFileType.MOSTLY_Q5_0)
    }
    for kind, path in made.items():
        header = read_header(path)
        # The file is as long as its weights say, and almost all of it a hole.
        assert header.data_end == path.stat().st_size > 4_000_000
        assert path.stat().st_blocks * 512 < path.stat().st_size / 4
        assert list(header.weight_reads) == [kind.name.removeprefix("MOSTLY_")]
    # llama.cpp loads them (read into memory, as the probe does) and writes tokens with them.
    result = ClientTasks().run(
        "speed_probe",
        lambda _event: None,
        models=[str(p) for p in made.values()],
        reps=1,
        n_gen=2,
        use_mmap=False,
    )
    assert len(result["tg_tps"]) == 3 and all(tps > 0 for tps in result["tg_tps"])
