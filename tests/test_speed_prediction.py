"""Predicted generation speed: the arithmetic on stated rates, sizes and GPU splits."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.gguf.header import read_header
from desktop.gguf.speed import (
    MachineSpeed,
    bytes_per_token,
    explain,
    predict_tg_tps,
    rule_of_thumb,
    speed_verdict,
)
from desktop.gguf.tiny_model import TinyModelSpec, build_tiny_model

GB = 1_000_000_000


def test_the_rule_of_thumb_is_five_gigabytes_a_second_a_core_capped() -> None:
    assert rule_of_thumb(2).cpu_bytes_per_s == 10 * GB
    assert rule_of_thumb(8).cpu_bytes_per_s == 40 * GB
    assert rule_of_thumb(64).cpu_bytes_per_s == 60 * GB
    assert rule_of_thumb(0).cpu_bytes_per_s == 5 * GB
    laptop = rule_of_thumb(2)
    assert not laptop.measured and laptop.gpu_bytes_per_s == 0 and "2 CPU cores" in laptop.note
    card = rule_of_thumb(8, gpu_free_bytes=8 * GB)
    assert card.gpu_bytes_per_s == 200 * GB and card.gpu_free_bytes == 8 * GB


def test_a_dense_model_reads_its_whole_file_per_token(tmp_path: Path) -> None:
    path = build_tiny_model(tmp_path / "dense.gguf", TinyModelSpec())
    header = read_header(path)
    size = path.stat().st_size
    assert bytes_per_token(size, header.fields) == size
    assert bytes_per_token(size) == size and bytes_per_token(size, {}) == size


def _moe_fields(experts: int, used: int, **extra: object) -> dict[str, object]:
    return {
        "general.architecture": "qwen3moe",
        "qwen3moe.expert_count": experts,
        "qwen3moe.expert_used_count": used,
        **extra,
    }


def test_a_mixture_of_experts_reads_only_the_active_experts() -> None:
    size = 10 * GB
    # No shape fields: the experts taken as 90% of the weights; 2 of 8 used: 10% + 90% x 1/4.
    assert bytes_per_token(size, _moe_fields(8, 2)) == pytest.approx(size * (0.1 + 0.9 / 4), rel=1e-9)
    # With the shape (Qwen3-30B-A3B's): about a tenth of the weights read, as its 3B of 30B active.
    shape = {
        "qwen3moe.block_count": 48,
        "qwen3moe.embedding_length": 2048,
        "qwen3moe.expert_feed_forward_length": 768,
        "qwen3moe.vocab_size": 151_936,
    }
    share = bytes_per_token(size, _moe_fields(128, 8, **shape)) / size
    assert 0.08 < share < 0.16
    # All experts used, or one expert: the whole file.
    assert bytes_per_token(size, _moe_fields(8, 8)) == size
    assert bytes_per_token(size, _moe_fields(1, 1)) == size


def test_speed_is_the_rate_over_the_bytes_a_token_reads() -> None:
    cpu = MachineSpeed(cpu_bytes_per_s=10 * GB)
    assert predict_tg_tps(1 * GB, cpu) == pytest.approx(10.0)
    assert predict_tg_tps(0, cpu) == 0.0
    # Calibration multiplies.
    assert predict_tg_tps(1 * GB, MachineSpeed(10 * GB, calibration=0.8)) == pytest.approx(8.0)
    # No GPU: a GPU share is ignored.
    assert predict_tg_tps(1 * GB, cpu, gpu_fraction=1.0) == pytest.approx(10.0)
    gpu = MachineSpeed(cpu_bytes_per_s=10 * GB, gpu_bytes_per_s=200 * GB, gpu_free_bytes=8 * GB)
    assert predict_tg_tps(1 * GB, gpu, gpu_fraction=1.0) == pytest.approx(200.0)
    # Half the layers offloaded: 0.05 s on the CPU + 0.0025 s on the GPU a token.
    assert predict_tg_tps(1 * GB, gpu, gpu_fraction=0.5) == pytest.approx(1 / 0.0525)
    # A fixed time a token (measured by the probe) adds to the reading time.
    fixed = MachineSpeed(cpu_bytes_per_s=10 * GB, per_token_s=0.01)
    assert predict_tg_tps(1 * GB, fixed) == pytest.approx(1 / 0.11)
    assert "plus about 10 ms a token" in explain(GB, fixed, 9.1)
    # The CPU share dominates: a tenth left on the CPU more than halves the speed.
    assert predict_tg_tps(1 * GB, gpu, gpu_fraction=0.9) < predict_tg_tps(1 * GB, gpu, 1.0) / 2


def test_verdicts_follow_reading_speed() -> None:
    assert speed_verdict(40.0, True) == "fast"
    assert speed_verdict(15.0, True) == "fast"
    assert speed_verdict(14.9, True) == "usable"
    assert speed_verdict(5.0, True) == "usable"
    assert speed_verdict(4.9, True) == "slow"
    assert speed_verdict(100.0, False) == "won't fit"
    assert speed_verdict(None, True) == "usable"


def test_the_tooltip_says_how_it_was_worked_out() -> None:
    probed = MachineSpeed(cpu_bytes_per_s=11.5e9, measured=True, note="timed llama.cpp on a 150 MB file")
    words = explain(940_000_000, probed, 12.2)
    assert words.startswith("About 12 tokens/s: each token reads 940.0 MB of weights")
    assert "about 11.5 GB/s (measured once)" in words and "timed llama.cpp" in words
    guess = explain(2 * GB, rule_of_thumb(2), 4.96)
    assert "About 5.0 tokens/s" in guess and "rule of thumb" in guess
    calibrated = explain(GB, MachineSpeed(10 * GB, 200 * GB, 8 * GB, True, 0.9), 9.0)
    assert "GPU about 200.0 GB/s" in calibrated and "scaled by 0.90" in calibrated
