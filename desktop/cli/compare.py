"""``hearth bench``, ``hearth eval`` and ``hearth quantize`` (contract: shared/CLI.md)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.cli.models import resolve_model
from desktop.cli.output import CommandFailed, model_row, positive_int, print_json, table
from desktop.engine.client import EngineFailure
from desktop.engine.tasks import REP_DONE
from desktop.paths import hearth_paths
from desktop.units import format_bytes

if TYPE_CHECKING:  # the commands import what they run: `hearth list` starts without them
    from desktop.app.client_engine import ClientTasks
    from desktop.app.compare_runs import TaskRun
    from desktop.compare.results import CompareStore
    from desktop.engine.protocol import TaskProgress


class _Progress:
    """A task's progress on one rewritten stderr line, on a terminal only."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.shown = not quiet and sys.stderr.isatty()

    def stage(self, stage: str, fraction: float) -> None:
        # No import here: a Ctrl+C that lands inside an import is swallowed by its machinery.
        if stage.startswith(REP_DONE) and not self.quiet:
            # a finished repetition is a line of its own, on a terminal or not
            sys.stderr.write(("\r\033[K" if self.shown else "") + stage + "\n")
            sys.stderr.flush()
        elif self.shown:
            sys.stderr.write(f"\r{stage}: {fraction:.0%}\033[K")
            sys.stderr.flush()

    def event(self, event: TaskProgress) -> None:
        self.stage(event.stage, event.fraction)

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")


def _measure(run: TaskRun, tasks: ClientTasks, progress: _Progress, start: Callable[[], None]) -> None:
    """Starts ``run`` and pumps it to its end: Ctrl+C (even while it starts) cancels it and ends
    its worker; a failure is the command's error."""
    try:
        start()
        tasks.pump(run)
    except KeyboardInterrupt:
        run.cancel()
        raise
    finally:
        progress.clear()
        tasks.unload()
    if run.problem is not None:
        raise CommandFailed(run.problem)


def _history() -> CompareStore:
    """Before minutes of measuring: a history that can't take the run fails now, in words."""
    from desktop.compare.results import CompareStore

    store = CompareStore(hearth_paths().compare_db)
    try:
        store.check_writable()
    except BaseException:
        store.close()
        raise
    return store


def cmd_bench(args: argparse.Namespace) -> int:
    import statistics

    from desktop.app.client_engine import ClientTasks
    from desktop.app.compare_runs import BenchRun, RunEvents
    from desktop.compare.recording import runs_text, spread_text

    models = [resolve_model(ref) for ref in args.models]
    store = _history()
    progress = _Progress(args.json)
    tasks = ClientTasks()
    run = BenchRun(store, tasks, RunEvents(progress=progress.stage))
    try:
        _measure(run, tasks, progress, lambda: run.start(models, args.reps))
    finally:
        store.close()
    rows = [
        {
            "model": model.name,
            "pp_tps": statistics.median(result["pp_tps"]),
            "tg_tps": statistics.median(result["tg_tps"]),
            "ttft_ms": statistics.median(result["ttft_ms"]),
            "load_ms": result["load_ms"],
            "peak_rss_bytes": result["peak_rss_bytes"],
            "reps": args.reps,
        }
        for model, result in run.measured
    ]
    if args.json:
        print_json(rows)
        return 0
    table(
        [
            (
                r["model"],
                spread_text(result["pp_tps"]),
                spread_text(result["tg_tps"]),
                f"{r['ttft_ms']:.0f}",
                f"{r['load_ms']:.0f}",
                format_bytes(r["peak_rss_bytes"]),
                runs_text(len(result["tg_tps"])),
            )
            for (_model, result), r in zip(run.measured, rows, strict=True)
        ],
        ("MODEL", "PP T/S", "TG T/S", "TTFT MS", "LOAD MS", "PEAK RAM", "RUNS"),
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from desktop.app.client_engine import ClientTasks
    from desktop.app.compare_runs import EvalRun, RunEvents
    from desktop.compare.recording import QUALITY_BETTER, QUALITY_TEXT, reference_summary
    from desktop.compare.reference_text import reference_text

    reference = resolve_model(args.reference)
    models = [resolve_model(ref) for ref in args.models]
    store = _history()
    try:
        if args.text:
            try:
                text = Path(args.text).read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise CommandFailed(f"cannot read {args.text}: {exc.strerror}") from exc
        else:
            try:
                text = reference_text(reference.path, 4 * args.ctx)
            except EngineFailure as exc:
                raise CommandFailed(str(exc)) from exc
        progress = _Progress(args.json)
        tasks = ClientTasks()
        run = EvalRun(store, tasks, RunEvents(progress=progress.stage))
        with tempfile.TemporaryDirectory(prefix="hearth-eval-") as work:
            _measure(
                run,
                tasks,
                progress,
                lambda: run.start(
                    reference,
                    models,
                    text,
                    n_ctx=args.ctx,
                    workdir=work,
                    source=args.text or "the reference's own writing",
                ),
            )
    finally:
        store.close()
    rows = [
        {
            "model": model.name,
            "ppl": s["ppl"],
            "kld_mean": s["kld_mean"],
            "top1_agreement": s["top1_agreement"],
            "delta_p_mean": s["delta_p_mean"],
            "tokens_scored": s["tokens_scored"],
        }
        for model, s in run.measured
    ]
    if args.json:
        print_json(rows)
        return 0
    print(f"reference {reference_summary(reference.name, run.reference_scores)}")
    table(
        [(r["model"], *(text(r[key]) for key, text in QUALITY_TEXT.items())) for r in rows],
        ("MODEL", "PPL", "KLD", "SAME TOP", "ΔP"),
    )
    columns = zip(("PPL", "KLD", "SAME TOP", "ΔP"), QUALITY_TEXT, strict=True)
    print("; ".join(f"{name} {QUALITY_BETTER[key]}" for name, key in columns))
    return 0


def cmd_quantize(args: argparse.Namespace) -> int:
    from desktop.app.client_engine import ClientTasks
    from desktop.compare.quantize import QUANT_TYPES, SOURCE_TYPES, partial_path, target_for
    from desktop.library.catalog import scan_library
    from desktop.settings import load_settings

    source = resolve_model(args.source)
    kind = args.type.upper()
    if kind not in QUANT_TYPES:
        raise CommandFailed(f"Hearth does not make {args.type}; choose one of {', '.join(QUANT_TYPES)}")
    if (source.quant or "").upper() not in SOURCE_TYPES:
        raise CommandFailed(
            f"{source.name} is {source.quant or 'of an unknown type'}; quantize from F16, BF16, F32 or Q8_0"
        )
    models_dir = load_settings().resolved_models_dir()
    target = Path(args.output) if args.output else target_for(source.path, models_dir, kind)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandFailed(
            f"cannot make the folder {target.parent} ({exc.strerror}); choose another with --output"
        ) from exc
    progress = _Progress(args.json)
    try:
        ClientTasks().run("quantize", progress.event, source=str(source.path), target=str(target), type=kind)
    except EngineFailure as exc:
        raise CommandFailed(str(exc)) from exc
    finally:
        progress.clear()
        # A worker ended mid-write (Ctrl+C) cannot remove its partial output itself.
        with contextlib.suppress(OSError):  # a read-only folder has none to remove
            partial_path(target).unlink(missing_ok=True)
    made = next((m for m in scan_library() if m.path == target), None)
    if args.json:
        print_json(model_row(made) if made else {"path": str(target)})
    else:
        print(f"{target} ({format_bytes(target.stat().st_size)})")
    return 0


def add_commands(command: Any) -> None:
    """Registers the three commands with ``desktop.cli.build_parser``'s ``command`` helper."""

    p = command("bench", cmd_bench, "Measure models' speed on this machine (llama-bench style).")
    p.add_argument("models", nargs="+", metavar="MODEL", help="paths or ids from `hearth list`")
    p.add_argument("--reps", type=positive_int, default=3)
    p = command("eval", cmd_eval, "Score quants against a reference: perplexity, KL divergence, same top.")
    p.add_argument("models", nargs="+", metavar="MODEL", help="paths or ids from `hearth list`")
    p.add_argument("--reference", required=True, metavar="REF", help="the highest-precision build")
    p.add_argument("--text", metavar="FILE", help="text to score on (default: the reference's own writing)")
    p.add_argument("--ctx", type=positive_int, default=512, help="tokens a chunk (default 512)")
    p = command("quantize", cmd_quantize, "Make another quant of an F16, BF16 or Q8_0 model.")
    p.add_argument("source", metavar="SRC", help="a path or an id from `hearth list`")
    p.add_argument("type", metavar="TYPE", help="Q4_K_M, Q5_K_M, Q8_0, …")
    p.add_argument("--output", metavar="PATH", help="where to write it (default: beside its source)")
