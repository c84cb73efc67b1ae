"""``hearth search``, ``files``, ``quants`` and ``pull``: the Hugging Face Hub."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from desktop.cli.models import available_memory, library_models, this_machine
from desktop.cli.output import iso_time, model_row, print_json, table
from desktop.cli.unix import Interrupted
from desktop.hub.download import DownloadProgress, pull
from desktop.hub.files import list_files
from desktop.hub.quants import quant_report
from desktop.hub.search import search_models
from desktop.library.scan import find_model
from desktop.units import format_bytes, format_count, format_duration


def cmd_search(args: argparse.Namespace) -> int:
    found = search_models(args.query or "", sort=args.sort, limit=args.limit)
    if args.json:
        print_json(
            [
                {
                    "repo_id": m.repo_id,
                    "downloads": m.downloads,
                    "likes": m.likes,
                    "last_modified": iso_time(m.last_modified),
                    "gated": m.gated,
                }
                for m in found
            ]
        )
        return 0
    if not found:
        print("No GGUF models match.", file=sys.stderr)
        return 0
    table(
        [
            (m.repo_id, format_count(m.downloads), format_count(m.likes), iso_time(m.last_modified) or "—")
            for m in found
        ],
        ("REPO", "DOWNLOADS", "LIKES", "UPDATED"),
    )
    return 0


def cmd_files(args: argparse.Namespace) -> int:
    listing = list_files(args.repo)
    if args.json:
        print_json(
            [{"filename": f.filename, "size_bytes": f.size_bytes, "quant": f.quant} for f in listing.files]
        )
        return 0
    table(
        [(f.filename, format_bytes(f.size_bytes), f.quant or "") for f in listing.files],
        ("FILE", "SIZE", "QUANT"),
    )
    return 0


class ProgressLine:
    """Download progress on stderr: redrawn in place on a terminal, a line every few seconds otherwise."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._tty = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, p: DownloadProgress) -> None:
        now = time.monotonic()
        if not self._tty and now - self._last < 2.0 and p.done_bytes != p.total_bytes:
            return
        self._last = now
        pct = f"{p.fraction * 100:5.1f}%" if p.fraction is not None else "     "
        if p.stage == "verifying":
            line = (
                f"{self._label}: verifying sha256 {pct} {format_bytes(p.done_bytes)} of "
                f"{format_bytes(p.total_bytes)}"
            )
        else:
            line = (
                f"{self._label}: {pct} {format_bytes(p.done_bytes)} of {format_bytes(p.total_bytes)}"
                f"  {format_bytes(p.bytes_per_second)}/s  ETA {format_duration(p.eta_seconds)}"
            )
        sys.stderr.write(("\r" + line.ljust(100)) if self._tty else line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self._tty:
            sys.stderr.write("\n")


def _rounded(tps: float | None) -> float | None:
    return round(tps, 1) if tps is not None else None


def cmd_quants(args: argparse.Namespace) -> int:
    report = quant_report(args.repo, available_bytes=available_memory())
    machine = this_machine(quiet=args.json)
    rows: list[dict[str, Any]] = []
    for choice in report.choices:
        if choice.kind != "model":
            rows.append(
                {
                    "quant": None,
                    "kind": choice.kind,
                    "files": choice.filenames,
                    "size_bytes": choice.size_bytes,
                }
            )
            continue
        rows.append(
            {
                "quant": choice.quant,
                "files": choice.filenames,
                "size_bytes": choice.size_bytes,
                "shards": choice.shards,
                "bits_per_weight": report.bits_per_weight(choice),
                "fits": report.fit_for(choice),
                "predicted_tg_tps": _rounded(report.predicted_tg_tps(choice, machine)),
                "memory_bytes": report.memory_for(choice),
                "context": report.context,
                "quality": choice.quality,
            }
        )
    if args.json:
        print_json(rows)
        return 0
    if not report.choices:
        print(f"{args.repo} has no GGUF files.", file=sys.stderr)
        return 0
    table(
        [
            (
                choice.name,
                format_bytes(choice.size_bytes),
                str(choice.shards) if choice.kind == "model" else "",
                f"{bpw:.2f}" if (bpw := report.bits_per_weight(choice)) else "—",
                format_bytes(report.memory_for(choice)) if choice.kind == "model" else "",
                {"fits": "fits", "tight": "tight", "no": "won't fit"}.get(
                    report.fit_for(choice) or "", "sidecar"
                ),
                f"{tps:.1f}" if (tps := report.predicted_tg_tps(choice, machine)) is not None else "",
                choice.quality or "",
            )
            for choice in report.choices
        ],
        ("QUANT", "SIZE", "SHARDS", "BPW", f"MEMORY@{report.context}", "FITS", "TOK/S", "QUALITY"),
    )
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    progress = ProgressLine(args.file)

    def waiting() -> None:
        print("Another Hearth process is downloading this file; waiting for it…", file=sys.stderr)

    try:
        path = pull(args.repo, args.file, on_progress=progress, wait_for_lock=True, on_waiting=waiting)
    except KeyboardInterrupt:
        raise Interrupted("interrupted; the same `hearth pull` goes on from where this one stopped") from None
    finally:
        progress.close()
    model = find_model(str(path), library_models())
    assert model is not None
    if args.json:
        print_json(model_row(model))
    else:
        print(f"{model.name}  {model.id}  {path}")
    return 0
