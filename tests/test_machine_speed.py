"""The speed probe: measured once in an engine worker, cached by hardware, calibrated by bench runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.app.machine_speed import (
    CACHE_NAME,
    cached_machine_speed,
    calibration,
    fingerprint,
    machine_speed,
)
from desktop.compare.results import CompareStore, machine_info
from desktop.gguf.speed import MachineSpeed, predict_tg_tps
from desktop.paths import hearth_paths

GB = 1_000_000_000


@pytest.mark.unmeasured
def test_the_probe_measures_once_and_keeps_it_for_this_hardware() -> None:
    paths = hearth_paths()
    assert cached_machine_speed(paths) is None
    guess = machine_speed(paths, probe=False)
    assert not guess.measured and "not measured" in guess.note
    assert not (paths.cache_dir / CACHE_NAME).exists()

    said: list[str] = []
    measured = machine_speed(paths, progress=said.append)
    assert measured.measured and said
    # Any computer that runs Hearth reads weights faster than 100 MB/s and slower than 2 TB/s.
    assert 1e8 < measured.cpu_bytes_per_s < 2e12
    kept = json.loads((paths.cache_dir / CACHE_NAME).read_text())
    assert kept["fingerprint"] == fingerprint() and kept["probe_bytes"] > 100_000_000
    # The small probe model stays in the caches: far quicker a token, so the fixed time is small.
    assert kept["small_probe_tg_tps"] > kept["probe_tg_tps"] and 0 <= kept["per_token_s"] < 0.05
    assert cached_machine_speed(paths) == measured
    assert "timed llama.cpp" in measured.note

    # Other hardware (another CPU in the fingerprint): the kept rate no longer counts.
    kept["fingerprint"]["cpu"] = "Some Other CPU"
    (paths.cache_dir / CACHE_NAME).write_text(json.dumps(kept))
    assert cached_machine_speed(paths) is None
    assert not machine_speed(paths, probe=False).measured


def _keep_rate(rate: float) -> None:
    paths = hearth_paths()
    paths.cache_dir.mkdir(parents=True, exist_ok=True)
    kept = {"cpu_bytes_per_s": rate, "probe_bytes": 150_000_000, "fingerprint": fingerprint()}
    (paths.cache_dir / CACHE_NAME).write_text(json.dumps(kept))


def test_speed_runs_on_this_machine_calibrate_the_prediction(tiny_model: Path) -> None:
    paths = hearth_paths()
    _keep_rate(10 * GB)
    plain = cached_machine_speed(paths)
    assert plain is not None and plain.calibration == 1.0 and plain.cpu_bytes_per_s == 10 * GB

    size = tiny_model.stat().st_size
    predicted = predict_tg_tps(size, MachineSpeed(10 * GB))
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    store = CompareStore(paths.compare_db)
    here = machine_info()
    # An old run of the same file (superseded by the newer one), one from another machine (ignored).
    store.add_run(
        "bench", here, {"reps": 1}, [(str(tiny_model), "tiny", "F32", size, {"tg_tps": [predicted * 3]})]
    )
    store.add_run(
        "bench",
        {**here, "cpu": "Another CPU"},
        {"reps": 1},
        [(str(tiny_model), "tiny", "F32", size, {"tg_tps": [predicted * 5]})],
    )
    store.add_run(
        "bench",
        here,
        {"reps": 3},
        [
            (
                str(tiny_model),
                "tiny",
                "F32",
                size,
                {"tg_tps": [predicted * 0.7, predicted * 0.8, predicted * 0.9]},
            ),
            ("/gone/other.gguf", "other", "Q4_0", 2 * size, {"tg_tps": [predicted * 0.5]}),
        ],
    )
    store.close()
    factor, runs = calibration(paths, MachineSpeed(10 * GB))
    assert runs == 2 and factor == pytest.approx((0.8 + 1.0) / 2)
    tuned = cached_machine_speed(paths)
    assert tuned is not None and tuned.calibration == pytest.approx(0.9)
    assert "calibrated by 2 speed runs" in tuned.note
    assert predict_tg_tps(size, tuned) == pytest.approx(predicted * 0.9)
