"""Predicted generation speed: the arithmetic on stated rates, sizes and GPU splits."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from gguf import LlamaFileType

from desktop.gguf.header import read_header
from desktop.gguf.speed import (
    MachineSpeed,
    TokenReads,
    bytes_per_token,
    explain,
    predict_tg_tps,
    rate_kind,
    rule_of_thumb,
    speed_verdict,
    token_reads,
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


def test_a_token_reads_each_tensor_at_its_type_s_kind(tmp_path: Path) -> None:
    spec = TinyModelSpec(n_vocab=1024, n_embd=128, n_ff=256, file_type=LlamaFileType.MOSTLY_Q8_0)
    untied = read_header(build_tiny_model(tmp_path / "untied.gguf", spec))
    tied = read_header(build_tiny_model(tmp_path / "tied.gguf", replace(spec, tied_output=True)))
    # Q8_0: 34 bytes a block of 32; a row of 128 is 4 blocks.
    row = 4 * 34
    per_layer_rows = 128 + 64 + 64 + 128 + 256 + 256  # q, k, v, output; gate, up (128 wide)
    down = 128 * (256 // 32 * 34)  # 128 rows of 256
    layers = 2 * (per_layer_rows * row + down)
    # Untied: the output layer's 1024 rows are read; the embedding is looked up a row at a time.
    assert untied.weight_reads == {"Q8_0": [layers + 1024 * row, 2 * (per_layer_rows + 128) + 1024]}
    # Tied: the embedding is the output layer, read whole.
    assert tied.weight_reads == untied.weight_reads
    assert tied.data_end < untied.data_end  # one matrix fewer in the file

    reads = token_reads(10, tied.fields, weight_reads=tied.weight_reads, quant=tied.quant)
    assert reads.parts == {"8-bit": layers + 1024 * row} and reads.shape_key == "llama:2:128:256:"
    # Without the tensor list (a remote header), the rows are worked out from the shape.
    assert reads.rows == 2 * (per_layer_rows + 128) + 1024
    assert token_reads(10, tied.fields, quant="Q8_0").rows == reads.rows
    # Only rows unpacked block by block cost a set-up each: not floats, not repacked 4-bit rows.
    assert token_reads(10, tied.fields, quant="F16").rows == 0
    assert token_reads(10, tied.fields, quant="Q4_0").rows == 0
    mixed = token_reads(10, weight_reads={"F16": [1000, 10], "Q4_K": [500, 20], "Q5_0": [700, 30]})
    assert mixed.parts == {"16-bit": 1000, "4-bit": 500, "5-bit": 700} and mixed.rows == 30
    # Without the tensor list, the file's bytes at its quant's kind.
    assert token_reads(1000, quant="Q4_K_M").parts == {"4-bit": 1000}
    assert token_reads(1000).parts == {"8-bit": 1000}
    types = ("F16", "BF16", "F32", "Q8_0", "Q6_K", "Q5_0", "Q5_K", "Q4_1", "Q4_0", "Q4_K", "IQ4_NL")
    kinds = {t: rate_kind(t) for t in (*types, "MXFP4", "IQ4_XS", "Q3_K", "Q2_K", "IQ2_XXS", "Q5_K_M")}
    assert kinds == {
        "F16": "16-bit",
        "BF16": "16-bit",
        "F32": "16-bit",
        "Q8_0": "8-bit",
        "Q6_K": "8-bit",
        # The types llama.cpp's CPU backend repacks.
        "Q4_0": "4-bit",
        "Q4_K": "4-bit",
        "IQ4_NL": "4-bit",
        "MXFP4": "4-bit",
        # The rest, whose unpacking costs more than their bytes.
        "Q5_0": "5-bit",
        "Q5_K": "5-bit",
        "Q4_1": "5-bit",
        "IQ4_XS": "5-bit",
        "Q3_K": "5-bit",
        "Q2_K": "5-bit",
        "IQ2_XXS": "5-bit",
        "Q5_K_M": "5-bit",
    }
    # A summary kept by a Hearth that reckoned kinds and rows otherwise is read as missing.
    assert TokenReads.from_json(reads.to_json()) == reads
    assert TokenReads.from_json({**reads.to_json(), "version": 1}) is None
    assert TokenReads.from_json({"parts": {"8-bit": 1}, "rows": 3}) is None


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
    # Each kind of weight at its own rate; a kind not measured at the CPU's rate.
    kinds = MachineSpeed(10 * GB, rates={"16-bit": 20 * GB, "4-bit": 5 * GB})
    mixed = TokenReads({"16-bit": 1 * GB, "4-bit": 1 * GB, "8-bit": 1 * GB})
    assert predict_tg_tps(mixed, kinds) == pytest.approx(1 / (0.05 + 0.2 + 0.1))
    # A model's speed runs scale its builds' predictions by the time they took over the
    # predicted time, and no other model's; a run quicker than half the prediction counts as half.
    tuned = replace(kinds, scales={"llama:32:4096": 1.5, "llama:8:1024": 0.1})
    assert predict_tg_tps(TokenReads({"16-bit": 2 * GB}, "llama:32:4096"), tuned) == pytest.approx(1 / 0.15)
    assert predict_tg_tps(TokenReads({"16-bit": 2 * GB}, "llama:8:1024"), tuned) == pytest.approx(20.0)
    assert predict_tg_tps(TokenReads({"16-bit": 2 * GB}, "llama:16:2048"), tuned) == pytest.approx(10.0)
    # No GPU: a GPU share is ignored.
    assert predict_tg_tps(1 * GB, cpu, gpu_fraction=1.0) == pytest.approx(10.0)
    gpu = MachineSpeed(cpu_bytes_per_s=10 * GB, gpu_bytes_per_s=200 * GB, gpu_free_bytes=8 * GB)
    assert predict_tg_tps(1 * GB, gpu, gpu_fraction=1.0) == pytest.approx(200.0)
    # Half the layers offloaded: 0.05 s on the CPU + 0.0025 s on the GPU a token.
    assert predict_tg_tps(1 * GB, gpu, gpu_fraction=0.5) == pytest.approx(1 / 0.0525)
    # A fixed time a token (measured by the probe) adds to the reading time.
    fixed = MachineSpeed(cpu_bytes_per_s=10 * GB, per_token_s=0.01)
    assert predict_tg_tps(1 * GB, fixed) == pytest.approx(1 / 0.11)
    assert "plus about 10.0 ms a token" in explain(GB, fixed, 9.1)
    # Each row of a weight matrix costs its set-up time too.
    rowed = MachineSpeed(cpu_bytes_per_s=10 * GB, per_token_s=0.01, per_row_s=1e-8)
    reads = TokenReads({"8-bit": 1 * GB}, rows=1_000_000)
    assert predict_tg_tps(reads, rowed) == pytest.approx(1 / 0.12)
    assert "and 10.0 ms for its 1,000,000 rows of weights" in explain(reads, rowed, 8.3)
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
    with_gpu = explain(GB, MachineSpeed(10 * GB, 200 * GB, 8 * GB, True), 9.0)
    assert "GPU about 200.0 GB/s" in with_gpu
    rates = {"16-bit": 44 * GB, "4-bit": 47 * GB, "8-bit": 41 * GB}
    by_kind = MachineSpeed(40 * GB, measured=True, rates=rates)
    words = explain(TokenReads({"4-bit": 200_000_000, "8-bit": 50_000_000}), by_kind, 100.0)
    assert "reads 250.0 MB of weights" in words
    assert "8-bit weights about 41.0 GB/s, 4-bit weights about 47.0 GB/s (measured once)" in words
