"""What the installers' portable llama.cpp costs: its speed against a build for this very CPU.

    python -m benchmarks.portable_build --portable .venv-package/bin/python [--rounds 3] [MODEL]

The peer is the llama-cpp-python pip builds on install (GGML_NATIVE: compiled for the
building CPU, -march=native); the portable build (packaging/build-llama-portable.sh) carries
one CPU backend per instruction-set level and loads the best this CPU runs. Each round runs
`hearth bench MODEL` (pp512 and tg128 as llama-bench measures them, in a fresh engine
process) under both interpreters, alternately, each with a fresh HEARTH_HOME; prints the CPU
features each build's loaded backend reports, the medians and portable / native.
MODEL defaults to the Gemma 3 270M package model.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

FEATURES = (
    "from desktop.engine.devices import load_backends; load_backends(); import llama_cpp; "
    "print(llama_cpp.llama_print_system_info().decode())"
)


def cpu_features(python: str) -> str:
    """The instruction-set features of the CPU backend this interpreter's llama.cpp loads."""
    info = subprocess.run([python, "-c", FEATURES], capture_output=True, text=True, check=True).stdout
    cpu = info.partition("CPU :")[2].splitlines()[0]  # "SSE3 = 1 | ... | AVX512 = 0 | ..."
    return " ".join(f.split("=")[0].strip() for f in cpu.split("|") if f.strip().endswith("= 1"))


def bench(python: str, model: str, reps: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="hearth-portable-") as home:
        result = subprocess.run(
            [python, "-m", "desktop", "bench", model, "--reps", str(reps), "--json"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "HEARTH_HOME": home},
        )
    row = json.loads(result.stdout)[0]
    return float(row["pp_tps"]), float(row["tg_tps"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("model", nargs="?")
    parser.add_argument("--portable", required=True, help="a Python with the portable llama-cpp-python")
    parser.add_argument("--native", default=sys.executable, help="a Python with pip's build (default: this)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hearth-portable-model-") as folder:
        if args.model is None:
            from benchmarks.real_model import gemma_model

            args.model = str(gemma_model(Path(folder)))
        compare(args)


def compare(args: argparse.Namespace) -> None:
    builds = {"native": args.native, "portable": args.portable}
    for name, python in builds.items():
        print(f"{name:8} {python}: CPU backend with {cpu_features(python)}")
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in builds}
    for round_ in range(args.rounds):
        order = list(builds) if round_ % 2 == 0 else list(reversed(builds))
        for name in order:
            figures[name].append(bench(builds[name], args.model, args.reps))
            prompt, gen = figures[name][-1]
            print(f"round {round_ + 1} {name:8} pp512 {prompt:7.1f} t/s  tg128 {gen:6.1f} t/s", flush=True)
    pp = {name: statistics.median(row[0] for row in rows) for name, rows in figures.items()}
    tg = {name: statistics.median(row[1] for row in rows) for name, rows in figures.items()}
    print(
        f"portable / native: prompt {pp['portable'] / pp['native']:.3f} "
        f"({pp['portable']:.1f} / {pp['native']:.1f} t/s), "
        f"generation {tg['portable'] / tg['native']:.3f} ({tg['portable']:.1f} / {tg['native']:.1f} t/s)"
    )


if __name__ == "__main__":
    main()
