"""Prompt and generation speed against llama.cpp's own ``llama-bench``, side by side in one run.

    python -m benchmarks.llama_bench --llama-bench PATH [--model PATH] [--threads 2] [--reps 5]

The peer is ``llama-bench -m MODEL -t THREADS -p 512 -n 128`` (pp512: one 512-token prompt
decoded; tg128: 128 single-token decodes from an empty cache, no sampling), built from the
llama.cpp sources vendored in the installed llama-cpp-python's sdist, so both run the same
llama.cpp. Against it, in this process, on the same model and threads:

- Hearth's worker as shipped (``EngineClient``, a real worker process, Hearth's default load
  options: n_batch 2048, n_ubatch 512, flash attention on; default sampling): prompt speed
  as llama.cpp's own timer gives it, generation as the worker sees it from token to token
  (sampling, detokenizing and events included);
- (a) llama-cpp-python's high-level ``Llama`` as Hearth used it before (n_batch 512, flash
  attention off): ``Llama.eval`` of the prompt, 128 tokens from ``Llama.generate`` with
  Hearth's default sampling;
- (b) a plain loop over the low-level API: ``llama_decode`` with ``llama_batch_get_one``
  (n_batch 2048, n_ubatch 512, flash attention on, as llama-bench resolves its ``auto`` on a
  CPU), and llama.cpp's native sampler chain for Hearth's default sampling (top_k 40, top_p
  0.95, min_p 0.05, temperature 0.7, dist with a seed) through ``llama_sampler_sample``;
- llama-bench again, run on llama-cpp-python's own libllama and libggml (LD_LIBRARY_PATH): the
  same program on the library Hearth actually loads, which tells what that build costs;
- (c) loop (b) without any sampling (the same token decoded again): what sampling costs;
- (d) the worker's own loop (``desktop.engine.native``) in this process: prefix check against
  ``Llama.input_ids``, each token's text from ``llama_token_to_piece`` and the
  end-of-generation check: what the process boundary costs, against the worker's row.

Generation starts from the BOS token at position 0, as tg128 does. Each repetition runs
llama-bench once (``-r 1``, after its own warm-up) and then every path once, so a slow spell
of the machine meets both sides; every path, like llama-bench, decodes its prompt once
unmeasured right before the prompt it measures (without that, a path's prompt came after
other processes had run for half a minute, llama-bench's straight after its warm-up). The
figures are medians over ``--reps``. Targets for Hearth's worker (for (d) with
``--no-worker``): prompt at least 0.95 of llama-bench, generation at least 0.90. Exit
status 0 when it meets both, 1 when not, 2 without llama-bench.

Building llama-bench (about 15 minutes on 2 cores; the same default CPU flags,
GGML_NATIVE, with OpenMP, that llama-cpp-python's source build used)::

    pip download llama-cpp-python==0.3.36 --no-deps --no-binary :all: -d /tmp/lcp-sdist
    tar xzf /tmp/lcp-sdist/llama_cpp_python-0.3.36.tar.gz -C /tmp
    cmake -S /tmp/llama_cpp_python-0.3.36/vendor/llama.cpp -B /tmp/llama-bench-build -G Ninja \\
        -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \\
        -DLLAMA_BUILD_SERVER=OFF -DLLAMA_OPENSSL=OFF
    cmake --build /tmp/llama-bench-build --config Release --target llama-bench -j2
    # then: --llama-bench /tmp/llama-bench-build/bin/llama-bench

On a machine shared with other work, a busy neighbour costs a 2-thread decode far more than
its share (each of llama.cpp's barriers waits for the thread that lost its core), so each
measurement is watched: when other processes (or the hypervisor's steal) took more than
``--max-others`` of the CPUs while it ran, it is run again, ``--tries`` times at most, and
the least disturbed run is kept. The table's last column is the most any kept run lost.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmarks.interference import measure_quietly
from benchmarks.real_model import gemma_model
from desktop.compare.speed import clear
from desktop.engine import native
from desktop.engine.protocol import Sampling

PP_TARGET = 0.95
TG_TARGET = 0.90
N_CTX = 4096
PROMPT_WORDS = (
    "The lighthouse keeper counted the ships that passed each night and wrote their names in a "
    "small book with a green cover, noting the wind, the tide and the colour of the sky. "
)


SAMPLING = Sampling(seed=1234)  # Hearth's default sampling, seeded


@dataclass
class Figures:
    label: str
    pp: list[float] = field(default_factory=list)  # tokens/s, one a repetition
    tg: list[float] = field(default_factory=list)
    sample_ms: list[float] = field(default_factory=list)  # per token, where measured
    others: list[float] = field(default_factory=list)  # the CPU share other processes took


def how_to_build() -> str:
    doc = __doc__ or ""
    start = doc.index("Building llama-bench")
    return doc[start : doc.index("On a machine shared")].rstrip()


# llama-bench


def llama_bench(
    exe: Path, model: Path, threads: int, n_prompt: int, n_gen: int, libs: Path | None = None
) -> tuple[float, float]:
    """One repetition of pp and tg (after llama-bench's own warm-up): tokens/s of each.

    ``libs``: a folder whose libllama and libggml are loaded instead of llama-bench's own (its
    RUNPATH gives way to LD_LIBRARY_PATH): llama-cpp-python's, to tell what its build costs.
    """
    command = [exe, "-m", model, "-t", str(threads), "-p", str(n_prompt), "-n", str(n_gen)]
    env = dict(os.environ, LD_LIBRARY_PATH=str(libs)) if libs else None
    out = subprocess.run(
        [*map(str, command), "-r", "1", "-o", "json"], capture_output=True, text=True, env=env
    )
    if out.returncode != 0:
        raise RuntimeError(f"llama-bench failed: {out.stderr.strip()[-500:]}")
    rows = json.loads(out.stdout)
    pp = next(r["avg_ts"] for r in rows if r["n_prompt"] > 0)
    tg = next(r["avg_ts"] for r in rows if r["n_gen"] > 0)
    return float(pp), float(tg)


# llama-cpp-python, in this process


def llama_cpp_lib_dir() -> Path:
    import llama_cpp

    return Path(llama_cpp.__file__).parent / "lib"


def load(model: Path, threads: int, n_batch: int, flash_attn: bool) -> Any:
    from llama_cpp import Llama

    return Llama(
        str(model),
        n_ctx=N_CTX,
        n_threads=threads,
        n_threads_batch=threads,
        n_batch=n_batch,
        n_ubatch=512,
        flash_attn=flash_attn,
        verbose=False,
    )


def prompt_tokens(llm: Any, n: int) -> list[int]:
    text = PROMPT_WORDS * (n // 20 + 2)
    tokens: list[int] = llm.tokenize(text.encode(), add_bos=True)
    return tokens[:n]


def timed(fn: Callable[[], int], setup: Callable[[], object] | None = None, warm_up: bool = False) -> float:
    """Tokens/s of ``fn``, which returns how many tokens it processed; ``setup`` runs untimed.

    ``warm_up``: ``fn`` runs once untimed first (after ``setup``, which then runs again), as
    llama-bench runs its prompt once before the one it measures.
    """
    if warm_up:
        if setup is not None:
            setup()
        fn()
    if setup is not None:
        setup()
    start = time.perf_counter()
    n = fn()
    return n / (time.perf_counter() - start)


def high_level(llm: Any, prompt: list[int], n_gen: int) -> tuple[float, float]:
    """(a): ``Llama.eval`` of the prompt; ``Llama.generate`` from BOS, Hearth's sampling."""
    import llama_cpp as ll

    def pp() -> int:
        llm.eval(prompt)
        ll.llama_synchronize(llm.ctx)
        return len(prompt)

    def tg() -> int:
        llm.set_seed(SAMPLING.seed)
        produced = 0
        for _token in llm.generate(
            [llm.token_bos()],
            temp=SAMPLING.temperature,
            top_k=SAMPLING.top_k,
            top_p=SAMPLING.top_p,
            min_p=SAMPLING.min_p,
            repeat_penalty=SAMPLING.repeat_penalty,
            reset=True,
        ):
            produced += 1  # each token yielded has cost one decode: BOS's, then the previous one's
            if produced >= n_gen:
                break
        return produced

    return timed(pp, lambda: clear(llm), warm_up=True), timed(tg, lambda: clear(llm))


def low_level(llm: Any, prompt: list[int], n_gen: int, sample: bool) -> tuple[float, float, float]:
    """(b) with ``sample``, else (c): tokens/s of pp and tg, and sampling's ms a token."""
    import llama_cpp as ll

    ctx = llm.ctx
    spent = [0.0]

    array = (ll.llama_token * len(prompt))(*prompt)

    def pp() -> int:
        if ll.llama_decode(ctx, ll.llama_batch_get_one(array, len(prompt))) != 0:
            raise RuntimeError("llama_decode failed")
        ll.llama_synchronize(ctx)
        return len(prompt)

    def tg() -> int:
        sampler = native.SamplerChain(llm, SAMPLING) if sample else None
        one = (ll.llama_token * 1)(llm.token_bos())
        batch = ll.llama_batch_get_one(one, 1)
        try:
            for _ in range(n_gen):
                if ll.llama_decode(ctx, batch) != 0:
                    raise RuntimeError("llama_decode failed")
                if sampler is None:
                    ll.llama_synchronize(ctx)  # as llama-bench: the same token again
                    continue
                began = time.perf_counter()
                one[0] = ll.llama_sampler_sample(sampler.handle, ctx, -1)
                spent[0] += time.perf_counter() - began
        finally:
            if sampler is not None:
                sampler.close()
        return n_gen

    pp_tps = timed(pp, lambda: clear(llm), warm_up=True) if sample else 0.0
    tg_tps = timed(tg, lambda: clear(llm))
    return pp_tps, tg_tps, spent[0] * 1000 / n_gen


def chat_loop(llm: Any, prompt: list[int], n_gen: int) -> tuple[float, float]:
    """(d): Hearth's engine loop (``desktop.engine.native``) in this process, text and end check included."""
    import llama_cpp as ll

    pieces = native.Pieces(llm)
    vocab = ll.llama_model_get_vocab(llm.model)

    def run(tokens: list[int], budget: int) -> int:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        produced = 0
        with native.SamplerChain(llm, SAMPLING) as sampler:
            native.decode_prompt(llm, tokens)
            for token in native.generate(llm, sampler):
                produced += 1
                ll.llama_vocab_is_eog(vocab, token)  # checked, not obeyed: every run decodes alike
                decoder.decode(pieces(token))
                if produced >= budget:
                    break
        return produced

    def pp() -> int:
        run(prompt, 1)
        return len(prompt)

    def tg() -> int:
        return run([llm.token_bos()], n_gen)

    # Nothing held is reusable: the whole prompt is decoded.
    return timed(pp, lambda: clear(llm), warm_up=True), timed(tg, lambda: clear(llm))


# Hearth's worker, through its client


class HearthWorker:
    """A real worker process loaded with Hearth's defaults (only context and threads set)."""

    def __init__(self, model: Path, threads: int, prompt_text: str) -> None:
        from desktop.engine.client import EngineClient
        from desktop.engine.protocol import LoadOptions

        self.client = EngineClient()
        self.client.load(LoadOptions(str(model), n_ctx=N_CTX, n_threads=threads))
        self.client.wait_loaded()
        self.prompt_text = prompt_text
        self.rep = 0
        self.made: list[int] = []  # tokens generated each time (fewer than asked: it stopped)
        self.ask("Hello", 2)  # warm-up

    def ask(self, text: str, max_tokens: int) -> Any:
        from desktop.engine.protocol import ChatMessage, GenerationStats

        sampling = replace(SAMPLING, max_tokens=max_tokens)
        request = self.client.chat([ChatMessage("user", text)], sampling, mode="complete")
        for event in self.client.stream(request):
            if isinstance(event, GenerationStats):
                return event
        raise RuntimeError("no stats")

    def measure(self, n_gen: int) -> tuple[float, float]:
        """Prompt tokens/s (a fresh prompt: only BOS reused) and generation tokens/s.

        Prompt: llama.cpp's own timer of the prompt's decode. Generation: the worker's wall
        clock from the first token to the last (sampling, text and events included), for a
        short prompt, so at about the depth tg128 runs at.
        """
        self.rep += 1
        self.ask(f"{self.rep}) {self.prompt_text}", 1)  # warm-up, as llama-bench's (nothing reused)
        prompt = self.ask(f"{self.rep}. {self.prompt_text}", 1)
        gen = self.ask(f"Chapter {self.rep}.", n_gen)
        self.made.append(gen.completion_tokens)
        return prompt.prompt_tps, gen.wall_tps

    def close(self) -> None:
        self.client.shutdown()


# The run


def report(paths: list[Figures], reference: Figures, judged: Figures) -> tuple[float, float]:
    """Prints the table; returns ``judged``'s ratios to the reference (medians of the paired ratios)."""
    ref_pp = statistics.median(reference.pp)
    ref_tg = statistics.median(reference.tg)
    print(f"{'path':62} {'pp t/s':>7} {'ratio':>6} {'tg t/s':>7} {'ratio':>6} {'others':>6}")
    for path in [reference, *paths]:
        pp = statistics.median(path.pp) if path.pp else 0.0
        tg = statistics.median(path.tg)
        pp_text = f"{pp:7.1f} {pp / ref_pp:6.3f}" if pp else f"{'-':>7} {'':6}"
        others = f"{max(path.others):6.0%}" if path.others else ""
        print(f"{path.label[:62]:62} {pp_text} {tg:7.1f} {tg / ref_tg:6.3f} {others}")
    print()
    print("tg of each repetition:")
    for path in [reference, *paths]:
        print(f"  {path.label.split()[0]:12} " + ", ".join(f"{t:.1f}" for t in path.tg))
    # Each repetition against the llama-bench run beside it: a slow spell of the machine
    # meets both, so these ratios spread less than the tokens/s do.
    paired_pp = [j / r for j, r in zip(judged.pp, reference.pp, strict=True)]
    paired_tg = [j / r for j, r in zip(judged.tg, reference.tg, strict=True)]
    print()
    print(
        f"{judged.label.split(' (')[0]} / llama-bench, repetition by repetition: "
        f"pp median {statistics.median(paired_pp):.3f} (range {min(paired_pp):.3f}-{max(paired_pp):.3f}), "
        f"tg median {statistics.median(paired_tg):.3f} (range {min(paired_tg):.3f}-{max(paired_tg):.3f})"
    )
    return statistics.median(paired_pp), statistics.median(paired_tg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--llama-bench", type=Path, help="the llama-bench binary (see how to build it below)")
    parser.add_argument("--model", type=Path, help="a GGUF file (default: the Gemma 3 270M package model)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=5, help="repetitions of every path (medians)")
    parser.add_argument("--n-prompt", type=int, default=512)
    parser.add_argument("--n-gen", type=int, default=128)
    parser.add_argument(
        "--max-others",
        type=float,
        default=0.05,
        help="a measurement during which other processes took more of the CPUs is run again",
    )
    parser.add_argument("--tries", type=int, default=4, help="runs of one measurement at most")
    parser.add_argument("--no-worker", action="store_true", help="leave out Hearth's worker process")
    args = parser.parse_args()

    if args.llama_bench is None or not args.llama_bench.is_file():
        print("llama-bench is needed to compare against (--llama-bench PATH).\n", file=sys.stderr)
        print(how_to_build(), file=sys.stderr)
        sys.exit(2)

    import llama_cpp

    llama_cpp.llama_log_set(_QUIET_LOG, None)
    with tempfile.TemporaryDirectory(prefix="hearth-llama-bench-") as tmp:
        model = args.model or gemma_model(Path(tmp))
        as_hearth = load(model, args.threads, n_batch=512, flash_attn=False)
        engine = load(model, args.threads, n_batch=2048, flash_attn=True)
        prompt = prompt_tokens(engine, args.n_prompt)
        worker = None
        if not args.no_worker:
            text = engine.detokenize(prompt[1:]).decode("utf-8", "replace")  # about the same tokens
            worker = HearthWorker(model, args.threads, text)
        try:
            figures = run(args, model, prompt, as_hearth, engine, worker)
            if worker is not None and min(worker.made) < args.n_gen:
                print(f"(the worker met an end of generation early: {worker.made} tokens)")
        finally:
            if worker is not None:
                worker.close()
            as_hearth.close()
            engine.close()

    bench, paths, judged, b, c = figures
    pp_ratio, tg_ratio = report(paths, bench, judged)
    wheel = next(p for p in paths if p.label.startswith("llama-bench on"))

    def ratio(a: Figures, b: Figures, key: str) -> float:
        return float(statistics.median(getattr(a, key)) / statistics.median(getattr(b, key)))

    print()
    print(
        f"where the difference goes: llama-cpp-python's build of llama.cpp against llama-bench's "
        f"own: pp {ratio(wheel, bench, 'pp'):.3f}, tg {ratio(wheel, bench, 'tg'):.3f}; "
        f"{judged.label.split(' (')[0]} against llama-bench on those same libraries: "
        f"pp {ratio(judged, wheel, 'pp'):.3f}, tg {ratio(judged, wheel, 'tg'):.3f}"
    )
    sample_ms = statistics.median(b.sample_ms)
    token_ms = 1000 / statistics.median(c.tg)
    print()
    print(
        f"sampling in (b): {sample_ms:.2f} ms a token, {sample_ms / token_ms:.1%} of a decode "
        f"({token_ms:.1f} ms a token without sampling)"
    )
    disturbed = sum(o > args.max_others for p in [bench, *paths] for o in p.others)
    if disturbed:
        print(
            f"{disturbed} measurements had more than {args.max_others:.0%} of the CPUs taken by other "
            f"processes even after {args.tries} tries: the figures are less certain"
        )
    ok = pp_ratio >= PP_TARGET and tg_ratio >= TG_TARGET
    print(
        f"{judged.label.split(' (')[0]} against llama-bench: prompt {pp_ratio:.3f} (target >= {PP_TARGET}), "
        f"generation {tg_ratio:.3f} (target >= {TG_TARGET}) -> {'PASS' if ok else 'MISS'}"
    )
    sys.exit(0 if ok else 1)


_QUIET_LOG: Any = None


def _quiet_log() -> Any:
    import llama_cpp

    return llama_cpp.llama_log_callback(lambda *_: None)


def run(
    args: argparse.Namespace,
    model: Path,
    prompt: list[int],
    as_hearth: Any,
    engine: Any,
    worker: HearthWorker | None,
) -> tuple[Figures, list[Figures], Figures, Figures, Figures]:
    """Returns llama-bench's figures, every path's, the judged path's, (b)'s and (c)'s."""
    bench = Figures("llama-bench (fa auto: on; n_batch 2048, n_ubatch 512)")
    wheel_libs = Path(llama_cpp_lib_dir())
    wheel = Figures("llama-bench on llama-cpp-python's own libllama/libggml")
    hearth = Figures("Hearth worker as shipped (EngineClient; fa on, b2048/ub512)")
    hl = Figures("(a) Llama.eval / Llama.generate (fa off, n_batch 512)")
    b = Figures("(b) llama_decode + native sampler chain (fa on, b2048/ub512)")
    c = Figures("(c) (b) without sampling")
    d = Figures("(d) the worker's loop in-process (desktop.engine.native)")

    def measure(into: Figures, fn: Callable[[], tuple[float, ...]]) -> tuple[float, ...]:
        values, others = measure_quietly(fn, args.max_others, args.tries)
        into.others.append(others)
        return values

    print(
        f"model: {model.name}; {args.threads} threads; pp{len(prompt)}, tg{args.n_gen}; "
        f"n_ctx {N_CTX} here; {args.reps} repetitions, side by side"
    )
    # Warm-up: the first decodes of a context allocate its compute buffers.
    high_level(as_hearth, prompt[:64], 4)
    low_level(engine, prompt[:64], 4, sample=True)
    began = time.perf_counter()

    def one_wheel() -> None:
        pp, tg = measure(
            wheel,
            lambda: llama_bench(args.llama_bench, model, args.threads, len(prompt), args.n_gen, wheel_libs),
        )
        wheel.pp.append(pp)
        wheel.tg.append(tg)

    def one_bench() -> None:
        pp, tg = measure(
            bench, lambda: llama_bench(args.llama_bench, model, args.threads, len(prompt), args.n_gen)
        )
        bench.pp.append(pp)
        bench.tg.append(tg)

    def one_hearth() -> None:
        if worker is not None:
            pp, tg = measure(hearth, lambda: worker.measure(args.n_gen))
            hearth.pp.append(pp)
            hearth.tg.append(tg)

    def one_a() -> None:
        pp, tg = measure(hl, lambda: high_level(as_hearth, prompt, args.n_gen))
        hl.pp.append(pp)
        hl.tg.append(tg)

    def one_b() -> None:
        pp, tg, ms = measure(b, lambda: low_level(engine, prompt, args.n_gen, sample=True))
        b.pp.append(pp)
        b.tg.append(tg)
        b.sample_ms.append(ms)

    def one_c() -> None:
        _pp, tg, _ms = measure(c, lambda: low_level(engine, prompt, args.n_gen, sample=False))
        c.tg.append(tg)

    def one_d() -> None:
        pp, tg = measure(d, lambda: chat_loop(engine, prompt, args.n_gen))
        d.pp.append(pp)
        d.tg.append(tg)

    # The order turns each repetition: where a path stands in the round (after which other
    # path, how long since the last llama-bench process) moves figures by a few percent here.
    order = [one_bench, one_hearth, one_wheel, one_a, one_b, one_c, one_d]
    for rep in range(args.reps):
        shift = rep % len(order)
        for step in order[shift:] + order[:shift]:
            step()
    print(f"({time.perf_counter() - began:.0f} s)")
    print()
    return bench, [p for p in (hearth, wheel, hl, b, c, d) if p.tg], hearth if hearth.tg else d, b, c


if __name__ == "__main__":
    _QUIET_LOG = _quiet_log()  # llama.cpp's messages left out; kept referenced until the process ends
    main()
