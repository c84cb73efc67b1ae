"""``predicted_tg_tps`` in ``hearth list --json`` and ``hearth quants --json`` rows (shared/CLI.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from desktop.gguf.header import read_header
from desktop.gguf.speed import token_reads
from desktop.paths import hearth_paths
from tests.conftest import TEST_REPO, measured_machine
from tests.fakehub import FakeHub
from tests.test_cli import hearth

GB = 1_000_000_000


def test_list_rows_say_the_predicted_speed(models_dir: Path, tiny_model: Path) -> None:
    measured_machine(10 * GB)
    ours = models_dir / "o" / "r" / "ours-F32.gguf"
    ours.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, ours)
    broken = models_dir / "o" / "r" / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00")
    result = hearth("list", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # measured already: no probe, and --json says nothing on stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    # A dense model on the CPU: the rate over the weights a token reads (no GPU in the test
    # machines): the file less its header and the embedding, which is looked up a row at a time.
    header = read_header(ours)
    per_token = token_reads(ours.stat().st_size, header.fields, weight_reads=header.weight_reads).total
    assert 0.5 * ours.stat().st_size < per_token < ours.stat().st_size
    assert rows["ours-F32"]["predicted_tg_tps"] == pytest.approx(10 * GB / per_token, rel=0.01)
    assert rows["broken"]["predicted_tg_tps"] is None
    table = hearth("list")
    assert "TOK/S" in table.stdout


def test_quants_rows_say_the_predicted_speed_and_bits_per_weight(fake_hub: FakeHub) -> None:
    measured_machine(10 * GB)
    fake_hub.repos[TEST_REPO].gguf = {"total": 139_584}
    result = hearth("quants", TEST_REPO, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    models = [r for r in rows if r["quant"] is not None]
    assert len(models) == 2
    for row in models:
        assert row["bits_per_weight"] == round(row["size_bytes"] * 8 / 139_584, 2)
        assert row["predicted_tg_tps"] == pytest.approx(10 * GB / row["size_bytes"], rel=0.01)
    sidecar = rows[-1]
    assert sidecar["quant"] is None and "predicted_tg_tps" not in sidecar


@pytest.mark.unmeasured
def test_the_first_list_measures_this_computer_once(models_dir: Path, tiny_model: Path) -> None:
    ours = models_dir / "o" / "r" / "ours-F32.gguf"
    ours.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, ours)
    first = hearth("list")
    assert first.returncode == 0 and "Measuring this computer's speed" in first.stderr
    assert (hearth_paths().cache_dir / "machine-speed.json").exists()
    again = hearth("list", "--json")
    assert again.stderr == "" and json.loads(again.stdout)[0]["predicted_tg_tps"] > 0
