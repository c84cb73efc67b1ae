"""Hearth's API server against llama.cpp's own ``llama-server``, on the same model, threads and
context, alternated in one run, through the official ``openai`` client.

    python -m benchmarks.server_vs_llama_server --llama-server PATH [--model PATH] [--threads 2]
        [--ctx 4096] [--tokens 128] [--reps 5] [--streams 4] [--endpoint completions|chat]

Both servers run as a person runs them: ``hearth serve --model MODEL`` (Hearth's engine
settings with ``--threads`` and ``--ctx`` written into a throw-away Hearth home) and
``llama-server -m MODEL -t THREADS -c CTX``. Each repetition sends one streamed request of
``--tokens`` tokens to each (their order swapped every repetition, so a slow spell of the
machine meets both sides), with ``stream_options.include_usage``:

- throughput = ``usage.completion_tokens`` ÷ (time of the last chunk − time the request was
  sent); target: Hearth at least 0.95 of llama-server's;
- time to the first chunk that carries text (a server that sends an empty role chunk before
  it has read the prompt gains nothing by it); target: Hearth's at most llama-server's + 20 ms.

Then ``--streams`` concurrent streamed requests to each: all must complete; their aggregate
throughput (all tokens ÷ first send to last chunk) is reported. Hearth answers them one after
another from its queue; llama-server decodes them together in its slots.

The default endpoint is ``/v1/completions`` with the same raw prompt on both sides, so both
decode the same tokens (the default model, Gemma 3 270M from its PyPI package, has no chat
template, and the two servers would fall back to different formats for it); ``--endpoint chat``
measures ``/v1/chat/completions`` for a model with a template. Each side's prompt differs per
repetition (its number in it), so neither answers from a cached prompt the other did not see.

Exit status 0 when both targets are met, 1 when not, 2 without llama-server.

Measured here (2 shared cores, Gemma 3 270M Q4_K_M, 2 threads, context 4096, 128 tokens,
medians of 5 and 7 alternated pairs): Hearth 96.0 / 92.1 tok/s against llama-server's 90.7 /
88.4 (ratio 1.05 both runs), first text 54 / 55 ms against 66 / 76 ms; four concurrent
streams all completed, 95 / 86 tok/s together for Hearth (one after another) against 110 /
105 for llama-server (decoded together in its slots). Each side samples with its own defaults
(Hearth's top_k 40, top_p 0.95, min_p 0.05, temperature 0.7; llama-server's chain adds its
penalties, DRY, typical-p and XTC stages, all neutral at their defaults, with temperature 0.8).

Building llama-server (about 5 minutes on 2 cores; the same default CPU flags, GGML_NATIVE,
that llama-cpp-python's source build used)::

    pip download llama-cpp-python==0.3.36 --no-deps --no-binary :all: -d /tmp/lcp-sdist
    tar xzf /tmp/lcp-sdist/llama_cpp_python-0.3.36.tar.gz -C /tmp
    cmake -S /tmp/llama_cpp_python-0.3.36/vendor/llama.cpp -B /tmp/llama-server-build -G Ninja \\
        -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \\
        -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF
    cmake --build /tmp/llama-server-build --config Release --target llama-server -j2
    # then: --llama-server /tmp/llama-server-build/bin/llama-server

``--peer-url URL`` measures against an OpenAI-compatible server already running instead (a
llama-server started by hand, with the same model, threads and context).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import openai

from benchmarks.real_model import gemma_model

THROUGHPUT_TARGET = 0.95
TTFT_MARGIN_MS = 20.0
START_TIMEOUT_S = 180.0
PROMPT = (
    "Here is request number {n}. Write a long, friendly letter to a neighbour about the garden, "
    "the weather this week, and the plans for the street party next month."
)


@dataclass
class Side:
    label: str
    url: str  # http://127.0.0.1:PORT
    model: str  # the name its API knows the model by
    tps: list[float] = field(default_factory=list)
    ttft_ms: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key="benchmark", max_retries=0, timeout=600)


@dataclass(frozen=True)
class Timed:
    sent: float
    first_text: float
    last: float
    completion_tokens: int

    @property
    def tps(self) -> float:
        return self.completion_tokens / (self.last - self.sent) if self.last > self.sent else 0.0

    @property
    def ttft_ms(self) -> float:
        return (self.first_text - self.sent) * 1000


def streamed(side: Side, endpoint: str, prompt: str, tokens: int) -> Timed:
    """One streamed request, timed from before the client sends it to its last chunk."""
    client = side.client()
    sent = time.perf_counter()
    first_text = last = 0.0
    usage = 0
    if endpoint == "chat":
        chat = client.chat.completions.create(
            model=side.model,
            messages=[{"role": "user", "content": prompt}],
            max_tokens=tokens,
            stream=True,
            stream_options={"include_usage": True},
        )
        for chunk in chat:
            last = time.perf_counter()
            if chunk.choices and chunk.choices[0].delta.content and not first_text:
                first_text = last
            if chunk.usage is not None:
                usage = chunk.usage.completion_tokens
    else:
        completion = client.completions.create(
            model=side.model,
            prompt=prompt,
            max_tokens=tokens,
            stream=True,
            stream_options={"include_usage": True},
        )
        for part in completion:
            last = time.perf_counter()
            if part.choices and part.choices[0].text and not first_text:
                first_text = last
            if part.usage is not None:
                usage = part.usage.completion_tokens
    if not usage:
        raise RuntimeError(f"{side.label} sent no usage with its stream")
    return Timed(sent, first_text or last, last, usage)


def concurrent(side: Side, endpoint: str, streams: int, tokens: int) -> tuple[int, float, int]:
    """``streams`` requests at once: how many completed, their aggregate tokens/s, the tokens."""
    results: list[Timed] = []
    errors: list[BaseException] = []

    def one(n: int) -> None:
        try:
            results.append(streamed(side, endpoint, PROMPT.format(n=1000 + n), tokens))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(streams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in errors:
        print(f"  {side.label}: a concurrent stream failed: {error}", file=sys.stderr)
    if not results:
        return 0, 0.0, 0
    total = sum(r.completion_tokens for r in results)
    span = max(r.last for r in results) - min(r.sent for r in results)
    return len(results), total / span if span > 0 else 0.0, total


# Starting the servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, path: str, process: subprocess.Popen[bytes]) -> None:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server at {url} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {url} did not start in {START_TIMEOUT_S:.0f} s")


@contextmanager
def hearth_server(model: Path, threads: int, ctx: int, home: Path) -> Iterator[Side]:
    env = dict(os.environ, HEARTH_HOME=str(home))
    settings = {"threads": threads, "load_context": ctx, "gpu_layers": 0}
    command = [sys.executable, "-m", "desktop", "serve", "--model", str(model)]
    # Hearth's own settings file, where its paths say it is for this home.
    paths = subprocess.run(
        [sys.executable, "-c", "from desktop.paths import hearth_paths; print(hearth_paths().settings_file)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    settings_file = Path(paths.stdout.strip())
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(json.dumps(settings))
    port = free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, "/v1/models", process)
        models = json.loads(_get(url, "/v1/models"))["data"]
        yield Side("hearth serve", url, models[0]["id"])
    finally:
        process.terminate()
        process.wait(30)


@contextmanager
def llama_server(exe: Path, model: Path, threads: int, ctx: int, extra: Sequence[str] = ()) -> Iterator[Side]:
    """llama-server on ``model``; ``extra``: more of its options (``--embeddings``)."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(exe),
            "-m",
            str(model),
            "-t",
            str(threads),
            "-c",
            str(ctx),
            *extra,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, "/health", process)
        yield Side("llama-server", url, model.name)
    finally:
        process.terminate()
        process.wait(30)


@contextmanager
def peer_server(url: str) -> Iterator[Side]:
    models = json.loads(_get(url, "/v1/models"))["data"]
    yield Side(f"peer at {url}", url, models[0]["id"])


def _get(url: str, path: str) -> str:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path)
    return conn.getresponse().read().decode()


# The run


def run(hearth: Side, peer: Side, args: argparse.Namespace) -> bool:
    sides = [hearth, peer]
    for side in sides:  # the same warm-up on both: the model's first pages read, caches made
        streamed(side, args.endpoint, PROMPT.format(n=0), 16)
    for rep in range(args.reps):
        for side in sides if rep % 2 == 0 else reversed(sides):
            timed = streamed(side, args.endpoint, PROMPT.format(n=rep + 1), args.tokens)
            side.tps.append(timed.tps)
            side.ttft_ms.append(timed.ttft_ms)
            side.tokens.append(timed.completion_tokens)

    print(f"{'server':<34}{'tok/s':>9}{'first text ms':>15}{'tokens':>8}")
    for side in sides:
        print(
            f"{side.label:<34}{statistics.median(side.tps):>9.1f}{statistics.median(side.ttft_ms):>15.1f}"
            f"{statistics.median(side.tokens):>8.0f}"
        )
    ratio = statistics.median(h / p for h, p in zip(hearth.tps, peer.tps, strict=True) if p > 0)
    ttft_gap = statistics.median(h - p for h, p in zip(hearth.ttft_ms, peer.ttft_ms, strict=True))
    print()
    print(f"throughput, Hearth ÷ {peer.label} (median of pairs): {ratio:.3f} (target >= {THROUGHPUT_TARGET})")
    print(
        f"first text, Hearth − {peer.label} (median of pairs): {ttft_gap:+.1f} ms "
        f"(target <= +{TTFT_MARGIN_MS:.0f})"
    )

    print()
    all_done = True
    for side in sides:
        done, aggregate, total = concurrent(side, args.endpoint, args.streams, args.tokens)
        all_done &= done == args.streams
        print(
            f"{side.label}: {done} of {args.streams} concurrent streams completed, {total} tokens, "
            f"{aggregate:.1f} tok/s together"
        )
    return ratio >= THROUGHPUT_TARGET and ttft_gap <= TTFT_MARGIN_MS and all_done


def how_to_build() -> str:
    doc = __doc__ or ""
    return doc[doc.index("Building llama-server") : doc.index("``--peer-url")].rstrip()


def peer_benchmark_parser(doc: str | None, *, ctx: int = 2048, reps: int = 5) -> argparse.ArgumentParser:
    """The options every comparison with llama-server on one model takes."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--llama-server", type=Path, help="the llama-server binary (see how to build it)")
    parser.add_argument("--model", type=Path, default=None, help="a GGUF file (default: each script's own)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=ctx)
    parser.add_argument("--reps", type=int, default=reps)
    return parser


def require_llama_server(path: Path | None) -> Path:
    """The llama-server binary, or exit status 2 with how to build it."""
    if path is None or not path.is_file():
        print("llama-server is needed for this comparison (--llama-server PATH).\n", file=sys.stderr)
        print(how_to_build(), file=sys.stderr)
        raise SystemExit(2)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--llama-server", type=Path, help="the llama-server binary (see how to build it below)"
    )
    parser.add_argument(
        "--peer-url", help="an OpenAI-compatible server already running, instead of --llama-server"
    )
    parser.add_argument("--model", type=Path, help="a GGUF file (default: the Gemma 3 270M package model)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--tokens", type=int, default=128, help="tokens asked for in each reply")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--streams", type=int, default=4, help="concurrent streams at the end")
    parser.add_argument("--endpoint", choices=("completions", "chat"), default="completions")
    args = parser.parse_args()
    if args.peer_url is None and (args.llama_server is None or not args.llama_server.is_file()):
        print("llama-server is needed to compare against (--llama-server PATH).\n", file=sys.stderr)
        print(how_to_build(), file=sys.stderr)
        sys.exit(2)

    with tempfile.TemporaryDirectory(prefix="hearth-server-bench-") as tmp:
        model = args.model or gemma_model(Path(tmp))
        peer = (
            peer_server(args.peer_url)
            if args.peer_url
            else llama_server(args.llama_server, model, args.threads, args.ctx)
        )
        with hearth_server(model, args.threads, args.ctx, Path(tmp) / "home") as hearth, peer as other:
            ok = run(hearth, other, args)
    print()
    print("PASS" if ok else "MISS")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
