"""A seeded fuzzing pass over the GGUF header parser (the full one: benchmarks/header_fuzz.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.gguf_fuzz import base_from_file, fuzz


def test_mutated_headers_end_in_a_result_or_a_documented_error(
    model_cache: Callable[..., Path], tmp_path: Path
) -> None:
    bases = [
        base_from_file("tiny", model_cache()),
        base_from_file(
            "tiny-5k-vocab",
            model_cache("tiny-5k.gguf", n_vocab=5000, n_embd=16, n_head=2, n_head_kv=1, n_ff=32),
        ),
    ]
    report = fuzz(bases, 400, seed=15, folder=tmp_path)
    assert report.findings == []
    kinds = {key.split(": ", 1)[1] for key in report.outcomes}
    assert {"ok", "BrokenModel", "NeedMoreBytes"} <= kinds
    assert report.slowest[0] < 2.0 and report.peak_bytes < 64 * 1024 * 1024
