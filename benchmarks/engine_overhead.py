"""What the engine's process boundary costs, against llama-cpp-python in this very process.

    python -m benchmarks.engine_overhead [--model PATH] [--threads 2] [--reps 3]

Side by side in one run, on the Gemma 3 270M package model (or ``--model``), same threads,
context and sampling:

- in process: ``llama_cpp.Llama`` loaded here, a 512-token prompt, then 128 tokens generated
  with the same sampling call the worker makes;
- the app path: the same through ``EngineClient`` (the worker process, its JSON-lines pipe
  and the streamed events), timed from the client's side.

Printed: generation and prompt tokens/s (targets: at least 0.97 of in-process), the time to
first token the process boundary adds (target: at most 15 ms), and load time (at most 1.10
of in-process). Then, in fresh processes: the GUI process's idle RSS with the model loaded in
its worker (target: at most 200 MB), whether unloading returns the model's memory (the worker
back within 50 MB of its empty size), and ``hearth`` from start to its window shown (at most
1.5 s, no model loaded).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.real_model import gemma_model

PROMPT_WORDS = (
    "The lighthouse keeper counted the ships that passed each night and wrote their names in a "
    "small book with a green cover, noting the wind, the tide and the colour of the sky. "
)


def prompt_of(llm: Any, tokens: int) -> str:
    """Text that tokenizes to about ``tokens`` tokens for this model."""
    text = PROMPT_WORDS
    while len(llm.tokenize(text.encode(), add_bos=True)) < tokens:
        text += PROMPT_WORDS
    while len(llm.tokenize(text.encode(), add_bos=True)) > tokens:
        text = text[: -max(1, len(text) // 200)]
    return text


def in_process(model: Path, threads: int, n_ctx: int, prompt: str, gen: int) -> dict[str, float]:
    import llama_cpp
    from llama_cpp import Llama

    start = time.perf_counter()
    llm = Llama(str(model), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False)
    load_ms = (time.perf_counter() - start) * 1000
    tokens = llm.tokenize(prompt.encode(), add_bos=True)
    llm.set_seed(1)
    llama_cpp.llama_perf_context_reset(llm.ctx)
    start = time.perf_counter()
    first = last = 0.0
    produced = 0
    for _token in llm.generate(
        tokens, temp=0.7, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0, reset=True
    ):
        now = time.perf_counter()
        if produced == 0:
            first = now
        last = now
        produced += 1
        if produced >= gen:
            break
    perf = llama_cpp.llama_perf_context(llm.ctx)
    llm.close()
    return {
        "load_ms": load_ms,
        "ttft_ms": (first - start) * 1000,
        "gen_tps": (produced - 1) / (last - first),
        "prompt_tps": perf.n_p_eval * 1000 / perf.t_p_eval_ms,
        "prompt_tokens": len(tokens),
    }


def app_path(model: Path, threads: int, n_ctx: int, prompt: str, gen: int) -> dict[str, float]:
    from desktop.engine.client import EngineClient
    from desktop.engine.protocol import (
        ChatMessage,
        GenerationStats,
        LoadOptions,
        ModelLoaded,
        Sampling,
        TokenEvent,
    )

    client = EngineClient()
    try:
        # Warmed as the in-process side is (it read the vocabulary before its first timing):
        # the worker started, llama.cpp initialised, the same file read once.
        client.render(str(model), [ChatMessage("user", "hi")])
        start = time.perf_counter()
        client.load(LoadOptions(str(model), n_ctx=n_ctx, n_threads=threads))
        loaded = client.wait_loaded()
        assert isinstance(loaded, ModelLoaded)
        load_ms = (time.perf_counter() - start) * 1000
        sampling = Sampling(max_tokens=gen, temperature=0.7, top_k=40, top_p=0.95, min_p=0.05, seed=1)
        start = time.perf_counter()
        request = client.chat([ChatMessage("user", prompt)], sampling, mode="complete")
        first = last = 0.0
        events = 0
        stats: GenerationStats | None = None
        for event in client.stream(request):
            now = time.perf_counter()
            if isinstance(event, TokenEvent):
                if events == 0:
                    first = now
                last = now
                events += 1
            else:
                stats = event
        assert stats is not None
    finally:
        client.shutdown()
    return {
        "load_ms": load_ms,
        "ttft_ms": (first - start) * 1000,
        "gen_tps": (stats.completion_tokens - 1) / (last - first),
        "prompt_tps": stats.prompt_tps,
        "prompt_tokens": stats.prompt_tokens,
        "worker_ttft_ms": stats.ttft_ms,
    }


def rss_bytes(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def gui_memory(model: str) -> None:
    """In its own process: the window with the model loaded in its worker, then unloaded."""
    from PySide6.QtWidgets import QApplication

    from desktop.engine.protocol import LoadOptions
    from desktop.ui.app import create_application, create_main_window
    from desktop.ui.engine_bridge import EngineState

    app = create_application([])
    window = create_main_window()
    window.show()

    def spin(seconds: float, until: Any = None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and until()):
            app.processEvents()
            time.sleep(0.01)

    window.engine.load(LoadOptions(model, n_ctx=2048))
    spin(120, lambda: window.engine.state == EngineState.READY)
    spin(3)  # idle
    worker = window.engine.worker_pid or 0
    result = {"gui_rss": rss_bytes(), "worker_rss_loaded": rss_bytes(worker) if worker else 0}
    window.engine.unload()
    spin(3)
    result["worker_alive"] = bool(worker) and Path(f"/proc/{worker}").exists()
    result["worker_rss_unloaded"] = rss_bytes(worker) if result["worker_alive"] else 0
    window.close()
    QApplication.processEvents()
    print(json.dumps(result))


def empty_worker_rss() -> int:
    """A worker process with no model: the size unloading should come back to."""
    from desktop.engine.client import EngineClient
    from desktop.engine.protocol import LoadOptions

    client = EngineClient()
    try:
        client.load(LoadOptions("/nonexistent"))
        client.next_event(60)
        time.sleep(0.5)
        return rss_bytes(client.worker_pid or 0)
    finally:
        client.shutdown()


def startup_seconds() -> float:
    """``python -m desktop`` to the log's "main window shown", no model loaded."""
    home = tempfile.mkdtemp(prefix="hearth-start-")
    env = dict(os.environ, HEARTH_HOME=home, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    log = Path(home) / "logs" / "hearth.log"
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "desktop"], env=env, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < 30:
            if log.exists() and "main window shown" in log.read_text(errors="replace"):
                return time.perf_counter() - start
            time.sleep(0.005)
        return float("inf")
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--gen-tokens", type=int, default=128)
    parser.add_argument("--gui-memory", help=argparse.SUPPRESS)  # the child process's part
    args = parser.parse_args()
    if args.gui_memory:
        gui_memory(args.gui_memory)
        return 0
    model = args.model or gemma_model(Path(tempfile.mkdtemp(prefix="hearth-overhead-")))
    n_ctx = 2048
    from llama_cpp import Llama

    vocab = Llama(str(model), vocab_only=True, verbose=False)
    prompt = prompt_of(vocab, args.prompt_tokens)
    vocab.close()

    rows: dict[str, list[dict[str, float]]] = {"in process": [], "app path": []}
    for _ in range(args.reps):  # alternated, so a busy moment of the machine hits both
        rows["in process"].append(in_process(model, args.threads, n_ctx, prompt, args.gen_tokens))
        rows["app path"].append(app_path(model, args.threads, n_ctx, prompt, args.gen_tokens))

    def median(path: str, key: str) -> float:
        return statistics.median(r[key] for r in rows[path])

    print(f"{model.name}, {args.threads} threads, context {n_ctx}, median of {args.reps}")
    print(f"{'':12}{'load ms':>10}{'ttft ms':>10}{'prompt t/s':>12}{'gen t/s':>10}")
    for path in rows:
        print(
            f"{path:12}{median(path, 'load_ms'):10.0f}{median(path, 'ttft_ms'):10.1f}"
            f"{median(path, 'prompt_tps'):12.1f}{median(path, 'gen_tps'):10.1f}"
        )
    gen = median("app path", "gen_tps") / median("in process", "gen_tps")
    pp = median("app path", "prompt_tps") / median("in process", "prompt_tps")
    added = median("app path", "ttft_ms") - median("in process", "ttft_ms")
    load = median("app path", "load_ms") / median("in process", "load_ms")
    checks = [
        (f"generation {gen:.3f} of in-process (target >= 0.97)", gen >= 0.97),
        (f"prompt {pp:.3f} of in-process (target >= 0.97)", pp >= 0.97),
        (f"added time to first token {added:+.1f} ms (target <= 15)", added <= 15),
        (f"load time {load:.3f} of in-process (target <= 1.10)", load <= 1.10),
    ]

    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.engine_overhead", "--gui-memory", str(model)],
        capture_output=True,
        text=True,
        env=dict(os.environ, HEARTH_HOME=tempfile.mkdtemp(), QT_QPA_PLATFORM="offscreen"),
        timeout=300,
    )
    memory = json.loads(child.stdout.strip().splitlines()[-1])
    empty = empty_worker_rss()
    mib = 1024 * 1024
    returned = not memory["worker_alive"] or memory["worker_rss_unloaded"] - empty <= 50 * mib
    checks.append(
        (
            f"GUI process idle RSS with the model loaded {memory['gui_rss'] / mib:.0f} MiB (target <= 200)",
            memory["gui_rss"] <= 200 * mib,
        )
    )
    checks.append(
        (
            f"after unload the worker is {memory['worker_rss_unloaded'] / mib:.0f} MiB "
            f"(was {memory['worker_rss_loaded'] / mib:.0f} MiB loaded; "
            f"{empty / mib:.0f} MiB empty; target within 50)",
            returned,
        )
    )
    starts = sorted(startup_seconds() for _ in range(3))
    checks.append(
        (f"hearth to its window shown {starts[1]:.2f} s, median of 3 (target <= 1.5)", starts[1] <= 1.5)
    )
    for text, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {text}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
