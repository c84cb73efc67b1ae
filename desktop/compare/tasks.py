"""The compare tools' long tasks as the engine worker runs them: parameters in, a result dict out.

Each runs in the worker process (llama.cpp's aborts on a damaged file end that process, not
the app). ``TASKS`` is the table the worker is started with (``hearth _engine``), so the
engine does not import this layer.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from desktop.compare import evaluation, quantize, speed
from desktop.engine.chat_template import build_prompt
from desktop.engine.hardware import peak_rss_bytes, physical_cores
from desktop.engine.protocol import ChatMessage, LoadOptions
from desktop.engine.tasks import REP_DONE, TaskContext, TaskFailed, TaskTable


def run_eval(command: dict[str, Any], context: TaskContext) -> dict[str, Any]:
    progress = context.progress
    reference = str(command["reference"])
    models = [str(m) for m in command["models"]]
    every = [reference, *models]

    def on_pass(model: str, fraction: float) -> None:
        done = every.index(model) + fraction
        verb = "Reading with" if model == reference else "Scoring"
        progress(f"{verb} {Path(model).name}", done / len(every))

    try:
        base, passes = evaluation.evaluate(
            reference,
            models,
            str(command["text"]),
            Path(command["workdir"]),
            n_ctx=int(command.get("n_ctx", 512)),
            n_batch=int(command.get("n_batch", 2048)),
            threads=int(command.get("threads") or physical_cores()),
            progress=on_pass,
            cancelled=context.cancelled,
        )
    except evaluation.EvalCancelled:
        raise TaskFailed("The evaluation was cancelled.") from None
    except evaluation.EvalError as exc:
        raise TaskFailed(str(exc)) from None
    return {"reference": asdict(base), "passes": [asdict(p) for p in passes]}


def run_quantize(command: dict[str, Any], context: TaskContext) -> dict[str, Any]:
    progress, log = context.progress, context.log
    source, target = Path(command["source"]), Path(command["target"])
    type_name = str(command["type"])
    stage = f"Making {target.name}"

    def on_line(line: str) -> None:
        fraction = quantize.tensor_progress(line)
        if fraction is not None:
            progress(stage, fraction)

    start = time.perf_counter()
    log.listener = on_line
    try:
        quantize.quantize(source, target, type_name, int(command.get("threads") or physical_cores()))
    except quantize.QuantizeError as exc:
        raise TaskFailed(str(exc)) from None
    finally:
        log.listener = None
    return {"path": str(target), "type": type_name, "seconds": time.perf_counter() - start}


def run_bench(command: dict[str, Any], context: TaskContext) -> dict[str, Any]:
    progress, cancelled, load = context.progress, context.cancelled, context.load
    model = str(command["model"])
    reps = max(1, int(command.get("reps", 3)))
    n_prompt = int(command.get("n_prompt", speed.N_PROMPT))
    n_gen = int(command.get("n_gen", speed.N_GEN))
    threads = command.get("threads")
    name = Path(model).name
    progress(f"Loading {name}", 0.0)
    try:
        llm, loaded = load(
            LoadOptions(model, n_ctx=max(1024, n_prompt + n_gen), n_threads=int(threads) if threads else None)
        )
    except RuntimeError:
        raise TaskFailed(f"{name} did not load.") from None
    prompt = speed.prompt_tokens(llm, n_prompt)
    template = (llm.metadata or {}).get("tokenizer.chat_template") or None
    chat, add_bos = build_prompt(llm, template, loaded.architecture, [ChatMessage("user", "Hello!")])
    question = llm.tokenize(chat.text.encode("utf-8"), add_bos=add_bos, special=True)
    # Warm-up: the first decodes of a context allocate its buffers.
    speed.prompt_speed(llm, prompt[:32])
    speed.generation_speed(llm, 4)
    result = speed.SpeedResult(model, [], [], [], loaded.load_ms, 0, n_prompt, n_gen)
    for rep in range(reps):
        if cancelled():
            raise TaskFailed("The speed test was cancelled.")
        progress(f"Timing {name} ({rep + 1} of {reps})", rep / reps)
        result.pp_tps.append(speed.prompt_speed(llm, prompt))
        result.tg_tps.append(speed.generation_speed(llm, n_gen))
        result.ttft_ms.append(speed.first_token_ms(llm, question))
        progress(
            f"{REP_DONE} {rep + 1} of {reps} of {name}: prompt {result.pp_tps[-1]:.1f} t/s, "
            f"generation {result.tg_tps[-1]:.1f} t/s, first token {result.ttft_ms[-1]:.0f} ms",
            (rep + 1) / reps,
        )
    return {**asdict(result), "peak_rss_bytes": peak_rss_bytes()}


def run_speed_probe(command: dict[str, Any], context: TaskContext) -> dict[str, Any]:
    """Generation speed of each of ``models`` in turn, in one worker (desktop/app/machine_speed's
    probe): the fastest of ``reps`` runs of ``n_gen`` tokens each, after a warm-up. ``use_mmap``
    false reads each file into memory (the probe's models are holes: desktop/gguf/tiny_model)."""
    reps = max(1, int(command.get("reps", 3)))
    n_gen = int(command.get("n_gen", 16))
    best: list[float] = []
    for model in command["models"]:
        if context.cancelled():
            raise TaskFailed("The speed probe was cancelled.")
        try:
            options = LoadOptions(
                str(model),
                n_ctx=int(command.get("n_ctx", 1024)),
                use_mmap=bool(command.get("use_mmap", True)),
            )
            llm, _loaded = context.load(options)
        except RuntimeError:
            raise TaskFailed(f"{Path(str(model)).name} did not load.") from None
        speed.generation_speed(llm, max(4, n_gen // 2))  # the first tokens after a load run slower
        best.append(max(speed.generation_speed(llm, n_gen) for _ in range(reps)))
    return {"tg_tps": best}


TASKS: TaskTable = {
    "eval": run_eval,
    "quantize": run_quantize,
    "bench": run_bench,
    "speed_probe": run_speed_probe,
}
