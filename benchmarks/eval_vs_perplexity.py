"""Hearth's quality evaluation against llama.cpp's own ``llama-perplexity``, side by side in one run.

    python -m benchmarks.eval_vs_perplexity --llama-perplexity PATH [--text FILE] [--ctx 512] [--chunks 8]

Builds of Gemma 3 270M made here from the package's Q4_K_M with llama.cpp's quantizer: an
F16 reference (the Q4_K_M weights, dequantized) and a Q4_0 and a Q3_K_M of it. The text is
the reference's own writing on Hearth's prompts (what the app uses by default; made once and
cached) unless ``--text`` is given, cut to ``--chunks`` chunks of ``--ctx`` tokens.

The peer: ``llama-perplexity -m REF -f TEXT -c CTX -t THREADS --kl-divergence-base FILE``
(the reference's pass), then ``... -m QUANT --kl-divergence`` for each quant, timed from start
to exit. Hearth: the same passes through the engine worker (``EngineClient``, the app's
path), timed from the request to the result. Printed: perplexity, mean KL divergence, same
top and mean Δp of each, their differences (targets: perplexity within 0.5%, KLD within 3%,
same top within 0.5 points), and the time ratio (target: at most 1.10).

Building llama-perplexity: as llama-bench in ``benchmarks/llama_bench.py``, with
``--target llama-perplexity``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.real_model import gemma_model
from desktop.compare.quantize import quantize

PPL_TOLERANCE = 0.005
KLD_TOLERANCE = 0.03
TOP_TOLERANCE = 0.005  # a share: half a point
TIME_TARGET = 1.10


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    if not match:
        raise RuntimeError(f"llama-perplexity printed no {pattern!r}:\n{text[-2000:]}")
    return float(match.group(1))


def llama_perplexity(
    exe: Path, model: Path, text: Path, ctx: int, threads: int, base: Path, against: bool
) -> tuple[dict[str, float], float]:
    command = [str(exe), "-m", str(model), "-f", str(text), "-c", str(ctx), "-t", str(threads)]
    command += ["--kl-divergence-base", str(base)] + (["--kl-divergence"] if against else [])
    start = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"llama-perplexity failed:\n{out.stderr[-2000:]}")
    log = out.stdout + out.stderr
    if not against:
        return {"ppl": _number(r"Final estimate: PPL = ([0-9.]+)", log)}, seconds
    return {
        "ppl": _number(r"Mean PPL\(Q\)\s*:\s*([0-9.]+)", log),
        "ppl_reference": _number(r"Mean PPL\(base\)\s*:\s*([0-9.]+)", log),
        "kld_mean": _number(r"Mean\s+KLD:\s*([0-9.]+)", log),
        "top1_agreement": _number(r"Same top p:\s*([0-9.]+)", log) / 100,
        "delta_p_mean": _number(r"Mean\s+Δp:\s*([-0-9.]+)", log) / 100,
    }, seconds


def hearth(
    reference: Path, quants: list[Path], text: str, ctx: int, threads: int, work: Path
) -> tuple[Any, float]:
    from desktop.engine.client import EngineClient
    from desktop.engine.protocol import TaskDone

    client = EngineClient()
    try:
        client.render(str(reference), [])  # the worker started and llama.cpp initialised, as the peer's is
        start = time.perf_counter()
        request = client.start_task(
            "eval",
            reference=str(reference),
            models=[str(q) for q in quants],
            text=text,
            n_ctx=ctx,
            threads=threads,
            workdir=str(work),
        )
        for event in client.task_events(request):
            if isinstance(event, TaskDone):
                return event.result, time.perf_counter() - start
        raise RuntimeError("no result")
    finally:
        client.shutdown()


def cut_text(reference: Path, text: str, tokens: int) -> str:
    """The text's first ``tokens`` tokens (as the reference tokenizes it), back as text."""
    from llama_cpp import Llama

    vocab = Llama(str(reference), vocab_only=True, verbose=False)
    try:
        ids = vocab.tokenize(text.encode(), add_bos=False)
        if len(ids) < tokens:
            raise SystemExit(f"the text is {len(ids)} tokens; {tokens} are needed")
        return str(vocab.detokenize(ids[:tokens]).decode("utf-8", "replace"))
    finally:
        vocab.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--llama-perplexity", type=Path, required=True)
    parser.add_argument("--text", type=Path)
    parser.add_argument("--ctx", type=int, default=512)
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hearth-eval-bench-") as tmp:
        folder = Path(tmp)
        source = gemma_model(folder)
        reference = folder / "gemma-3-270m-F16.gguf"
        _dequantize(source, reference, args.threads)
        quants = [folder / f"gemma-3-270m-{kind}.gguf" for kind in ("Q4_0", "Q3_K_M")]
        for quant in quants:
            quantize(reference, quant, quant.stem.rsplit("-", 1)[1], args.threads)
        if args.text:
            raw = args.text.read_text(encoding="utf-8", errors="replace")
        else:
            from desktop.compare.reference_text import reference_text

            print("the reference writes the test text (cached after the first run)…", file=sys.stderr)
            raw = reference_text(reference, args.ctx * args.chunks + 64)
        text = cut_text(reference, raw, args.ctx * args.chunks + 8)
        text_file = folder / "text.txt"
        text_file.write_text(text, encoding="utf-8")

        base_file = folder / "base.kld"
        peer: dict[str, dict[str, float]] = {}
        peer_seconds = 0.0
        figures, seconds = llama_perplexity(
            args.llama_perplexity, reference, text_file, args.ctx, args.threads, base_file, False
        )
        peer[reference.name], peer_seconds = figures, peer_seconds + seconds
        for quant in quants:
            figures, seconds = llama_perplexity(
                args.llama_perplexity, quant, text_file, args.ctx, args.threads, base_file, True
            )
            peer[quant.name], peer_seconds = figures, peer_seconds + seconds
        ours, our_seconds = hearth(reference, quants, text, args.ctx, args.threads, folder / "work")

    ok = True
    print(f"Gemma 3 270M, {args.chunks} chunks of {args.ctx} tokens, {args.threads} threads")
    base = ours["reference"]["scores"]
    print(f"{'':24}{'llama-perplexity':>18}{'Hearth':>12}{'difference':>12}")
    ppl_diff = base["ppl"] / peer[reference.name]["ppl"] - 1
    ok &= abs(ppl_diff) <= PPL_TOLERANCE
    print(f"{'reference PPL':24}{peer[reference.name]['ppl']:18.4f}{base['ppl']:12.4f}{ppl_diff:+12.2%}")
    for quant, scored in zip(quants, ours["passes"], strict=True):
        theirs, mine = peer[quant.name], scored["scores"]
        kind = quant.stem.rsplit("-", 1)[1]
        ppl_diff = mine["ppl"] / theirs["ppl"] - 1
        kld_diff = mine["kld_mean"] / theirs["kld_mean"] - 1
        top_diff = mine["top1_agreement"] - theirs["top1_agreement"]
        ok &= (
            abs(ppl_diff) <= PPL_TOLERANCE
            and abs(kld_diff) <= KLD_TOLERANCE
            and abs(top_diff) <= TOP_TOLERANCE
        )
        print(f"{kind + ' PPL':24}{theirs['ppl']:18.4f}{mine['ppl']:12.4f}{ppl_diff:+12.2%}")
        print(f"{kind + ' mean KLD':24}{theirs['kld_mean']:18.6f}{mine['kld_mean']:12.6f}{kld_diff:+12.2%}")
        print(
            f"{kind + ' same top':24}{theirs['top1_agreement']:18.2%}{mine['top1_agreement']:12.2%}"
            f"{100 * top_diff:+11.2f}pt"
        )
        print(f"{kind + ' mean Δp':24}{theirs['delta_p_mean']:18.3%}{mine['delta_p_mean']:12.3%}")
    ratio = our_seconds / peer_seconds
    ok &= ratio <= TIME_TARGET
    print(f"{'time, all passes':24}{peer_seconds:17.1f}s{our_seconds:11.1f}s{ratio:11.2f}x")
    print(
        f"{'PASS' if ok else 'MISS'}: PPL within {PPL_TOLERANCE:.1%}, KLD within {KLD_TOLERANCE:.0%}, "
        f"same top within {100 * TOP_TOLERANCE:.1f} points, time at most {TIME_TARGET:.2f}x"
    )
    return 0 if ok else 1


def _dequantize(source: Path, target: Path, threads: int) -> None:
    """An F16 copy of a quantized model (llama.cpp's quantizer, requantizing up)."""
    import ctypes

    import llama_cpp as ll

    params = ll.llama_model_quantize_default_params()
    params.nthread = threads
    params.ftype = ll.LLAMA_FTYPE_MOSTLY_F16
    params.allow_requantize = True
    if ll.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params)) != 0:
        raise SystemExit("could not make the F16 reference")


if __name__ == "__main__":
    sys.exit(main())
