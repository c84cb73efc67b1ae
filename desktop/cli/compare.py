"""``hearth bench``, ``hearth eval`` and ``hearth quantize`` (contract: shared/CLI.md)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path
from typing import Any

from desktop.cli.models import resolve_model
from desktop.cli.output import CommandFailed, model_row, positive_int, print_json, table
from desktop.engine.client import EngineClient, EngineFailure
from desktop.engine.protocol import TaskDone
from desktop.library.scan import LocalModel
from desktop.units import format_bytes


def _run_task(kind: str, quiet: bool, **payload: object) -> dict[str, Any]:
    """One task in a fresh worker (so a bench's peak memory is that model's alone); progress on stderr."""
    client = EngineClient()
    request = client.start_task(kind, **payload)
    try:
        for event in client.task_events(request):
            if isinstance(event, TaskDone):
                return event.result
            if not quiet and sys.stderr.isatty():
                sys.stderr.write(f"\r{event.stage}: {event.fraction:.0%}\033[K")
                sys.stderr.flush()
        raise CommandFailed("the engine ended the task without a result")
    except EngineFailure as exc:
        raise CommandFailed(str(exc)) from exc
    except KeyboardInterrupt:
        client.cancel(request)
        raise
    finally:
        if not quiet and sys.stderr.isatty():
            sys.stderr.write("\r\033[K")
        client.shutdown()


def _record(
    kind: str,
    settings: dict[str, Any],
    measured: list[tuple[LocalModel, dict[str, Any]]],
    reported: dict[str, Any],
) -> None:
    """Keeps the run in the history the app's Results show."""
    from desktop.compare.recording import keep_run
    from desktop.compare.results import CompareStore
    from desktop.paths import hearth_paths

    store = CompareStore(hearth_paths().compare_db)
    try:
        keep_run(store, kind, settings, measured, reported)
    finally:
        store.close()


def _check_history() -> None:
    """Before minutes of measuring: a history that can't take the run fails now, in words."""
    from desktop.compare.results import CompareStore
    from desktop.paths import hearth_paths

    store = CompareStore(hearth_paths().compare_db)
    try:
        store.check_writable()
    finally:
        store.close()


def cmd_bench(args: argparse.Namespace) -> int:
    import statistics

    from desktop.compare.recording import bench_metrics

    models = [resolve_model(ref) for ref in args.models]
    _check_history()
    rows = []
    measured = []
    result: dict[str, Any] = {}
    for model in models:
        result = _run_task("bench", args.json, model=str(model.path), reps=args.reps)
        measured.append((model, bench_metrics(result)))
        rows.append(
            {
                "model": model.name,
                "pp_tps": statistics.median(result["pp_tps"]),
                "tg_tps": statistics.median(result["tg_tps"]),
                "ttft_ms": statistics.median(result["ttft_ms"]),
                "load_ms": result["load_ms"],
                "peak_rss_bytes": result["peak_rss_bytes"],
                "reps": args.reps,
            }
        )
    _record("bench", {"reps": args.reps}, measured, result)
    if args.json:
        print_json(rows)
        return 0
    table(
        [
            (
                r["model"],
                f"{r['pp_tps']:.1f}",
                f"{r['tg_tps']:.1f}",
                f"{r['ttft_ms']:.0f}",
                f"{r['load_ms']:.0f}",
                format_bytes(r["peak_rss_bytes"]),
            )
            for r in rows
        ],
        ("MODEL", "PP T/S", "TG T/S", "TTFT MS", "LOAD MS", "PEAK RAM"),
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from desktop.compare.recording import QUALITY_TEXT, quality_metrics, reference_summary
    from desktop.compare.reference_text import reference_text

    reference = resolve_model(args.reference)
    models = [resolve_model(ref) for ref in args.models]
    _check_history()
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
    with tempfile.TemporaryDirectory(prefix="hearth-eval-") as work:
        result = _run_task(
            "eval",
            args.json,
            reference=str(reference.path),
            models=[str(m.path) for m in models],
            text=text,
            n_ctx=args.ctx,
            workdir=work,
        )
    _record(
        "eval",
        {
            "n_ctx": args.ctx,
            "reference": str(reference.path),
            "text": args.text or "the reference's own writing",
        },
        [(m, quality_metrics(p)) for m, p in zip(models, result["passes"], strict=True)],
        result,
    )
    rows = []
    for model, scored in zip(models, result["passes"], strict=True):
        s = scored["scores"]
        rows.append(
            {
                "model": model.name,
                "ppl": s["ppl"],
                "kld_mean": s["kld_mean"],
                "top1_agreement": s["top1_agreement"],
                "delta_p_mean": s["delta_p_mean"],
                "tokens_scored": s["tokens_scored"],
            }
        )
    if args.json:
        print_json(rows)
        return 0
    base = result["reference"]["scores"]
    print(f"reference {reference_summary(reference.name, base)}")
    table(
        [(r["model"], *(text(r[key]) for key, text in QUALITY_TEXT.items())) for r in rows],
        ("MODEL", "PPL", "KLD", "SAME TOP", "ΔP"),
    )
    return 0


def cmd_quantize(args: argparse.Namespace) -> int:
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
    try:
        _run_task("quantize", args.json, source=str(source.path), target=str(target), type=kind)
    finally:
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
