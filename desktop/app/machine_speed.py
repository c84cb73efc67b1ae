"""How fast this computer generates: the probe behind every predicted speed (desktop/gguf/speed.py).

The probe (desktop/app/speed_probe.py) times llama.cpp writing tokens with factory models in one
fresh engine worker (the ``speed_probe`` task, beside ``hearth bench``'s): a small one that stays
in the CPU's caches gives the fixed time a token, one of some 130-250 MB for each kind of weight
the rate that kind is read at, and one of short rows what a row costs. It takes a few seconds
once; the rates are kept in ``machine-speed.json`` in the cache folder with a fingerprint of the
hardware (CPU model, physical cores, total memory, GPUs), and measured again when the
fingerprint changes. The GPU's rate is not measured: it stays the rule of thumb.

Speed runs recorded on this machine (``hearth bench``, the Speed tab) calibrate the builds of the
models they measured: the median, over a model's runs, of the time a token took over the
predicted time scales the prediction of each build of that model.

Qt-free and blocking: front ends call ``machine_speed`` off the GUI thread.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from desktop.compare.results import CompareStore, RunRow
from desktop.db import StorageError
from desktop.engine.hardware import cpu_name, physical_cores
from desktop.gguf.fit import system_memory_bytes
from desktop.gguf.header import BrokenModel, read_header
from desktop.gguf.speed import (
    GPU_BYTES_PER_S,
    MachineSpeed,
    TokenReads,
    predicted_seconds,
    rule_of_thumb,
    token_reads,
)
from desktop.json_file import read_json, write_json
from desktop.paths import HearthPaths
from desktop.units import format_bytes

CACHE_NAME = "machine-speed.json"


def fingerprint() -> dict[str, Any]:
    """What the measured rate depends on; a change means measuring again."""
    cpu = cpu_name()
    return {
        "cpu": cpu,
        "physical_cores": physical_cores(),
        "memory_gb": round(system_memory_bytes() / 1e9),
        "gpus": _gpu_names(),
    }


def _gpu_names() -> list[str]:
    """The GPUs, cheaply (no backend loaded): NVIDIA's driver names them; other cards by PCI id."""
    names: list[str] = []
    for info in sorted(Path("/proc/driver/nvidia/gpus").glob("*/information")):
        try:
            for line in info.read_text().splitlines():
                if line.startswith("Model:"):
                    names.append(line.split(":", 1)[1].strip())
        except OSError:
            continue
    for card in sorted(Path("/sys/class/drm").glob("card[0-9]")):
        try:
            vendor = (card / "device" / "vendor").read_text().strip()
            device = (card / "device" / "device").read_text().strip()
        except OSError:
            continue
        if vendor != "0x10de":  # NVIDIA's are named above
            names.append(f"{vendor}:{device}")
    return names


def _cache_file(paths: HearthPaths) -> Path:
    return paths.cache_dir / CACHE_NAME


def _read_cache(paths: HearthPaths) -> dict[str, Any] | None:
    try:
        value = read_json(_cache_file(paths), "the measured machine speed", dict)
    except StorageError:
        return None
    if not isinstance(value, dict) or value.get("fingerprint") != fingerprint():
        return None
    from desktop.app.speed_probe import PROBE_VERSION

    if value.get("probe_version") != PROBE_VERSION:
        return None  # an older probe's single rate: measured again
    rate = value.get("cpu_bytes_per_s")
    return value if isinstance(rate, (int, float)) and rate > 0 else None


def _rates(cached: dict[str, Any]) -> dict[str, float]:
    value = cached.get("rates")
    if not isinstance(value, dict):
        return {}
    return {str(k): float(v) for k, v in value.items() if isinstance(v, (int, float)) and v > 0}


def _from_cache(paths: HearthPaths, cached: dict[str, Any], gpu_free_bytes: int) -> MachineSpeed:
    rate = float(cached["cpu_bytes_per_s"])
    fixed = float(cached.get("per_token_s", 0.0))
    note = (
        f"timed llama.cpp writing tokens with {format_bytes(cached.get('probe_bytes', 0))} models "
        f"on {cached['fingerprint']['cpu']} ({cached['fingerprint']['physical_cores']} cores)"
    )
    gpu = float(GPU_BYTES_PER_S) if gpu_free_bytes > 0 else 0.0
    if gpu:
        note += "; the GPU's rate is a rule of thumb"
    per_row = cached.get("per_row_s", 0.0)
    base = MachineSpeed(
        rate,
        gpu,
        max(0, gpu_free_bytes),
        measured=True,
        note=note,
        per_token_s=fixed,
        per_row_s=float(per_row) if isinstance(per_row, (int, float)) else 0.0,
        rates=_rates(cached),
    )
    scales, runs = calibration(paths, base)
    if runs:
        runs_words = f"{runs} speed run{'s' if runs != 1 else ''}"
        note = f"{note}; calibrated by {runs_words} on this computer"
        base = replace(base, scales=scales, runs=runs, note=note)
    return base


def cached_machine_speed(paths: HearthPaths, *, gpu_free_bytes: int = 0) -> MachineSpeed | None:
    """The measured speed if the probe has run on this hardware; None otherwise. Cheap: no probe."""
    cached = _read_cache(paths)
    return _from_cache(paths, cached, gpu_free_bytes) if cached else None


def machine_speed(
    paths: HearthPaths,
    *,
    probe: bool = True,
    gpu_free_bytes: int = 0,
    progress: Callable[[str], None] | None = None,
) -> MachineSpeed:
    """This computer's speed: from the cache, else measured now (blocking, a few seconds, once)
    when ``probe``; the rule of thumb when not probing or when the probe fails."""
    known = cached_machine_speed(paths, gpu_free_bytes=gpu_free_bytes)
    if known is not None or not probe:
        return known or rule_of_thumb(physical_cores(), gpu_free_bytes)
    from desktop.app.speed_probe import run_probe  # builds GGUFs: gguf and numpy load only here

    try:
        measured = run_probe(paths, progress)
    except Exception as exc:  # the engine failed or the disk is full: fall back, saying why
        fallback = rule_of_thumb(physical_cores(), gpu_free_bytes)
        return MachineSpeed(
            fallback.cpu_bytes_per_s,
            fallback.gpu_bytes_per_s,
            fallback.gpu_free_bytes,
            note=f"{fallback.note}; the speed probe failed: {exc}",
        )
    with_print = {**measured, "fingerprint": fingerprint()}
    with contextlib.suppress(StorageError):  # if it can't be kept, measured again next time
        write_json(_cache_file(paths), with_print, "the measured machine speed", dict)
    return _from_cache(paths, with_print, gpu_free_bytes)


def _same_machine(row: RunRow) -> bool:
    here = fingerprint()
    return row.machine.get("cpu") == here["cpu"] and row.machine.get("memory_bytes") == system_memory_bytes()


def _row_reads(row: RunRow) -> TokenReads | None:
    path = Path(row.model)
    try:
        header = read_header(path)
    except (OSError, BrokenModel, ValueError):
        return None  # gone or changed: its run says nothing about the builds here now
    size = row.size_bytes or path.stat().st_size
    return token_reads(size, header.fields, weight_reads=header.weight_reads, quant=header.quant)


def calibration(paths: HearthPaths, machine: MachineSpeed) -> tuple[dict[str, float], int]:
    """By model (``shape_key``), the median over its speed runs recorded on this machine
    (CPU-only) of the time a token took over the predicted time, and how many runs that is;
    ({}, 0) when there are none."""
    if not paths.compare_db.exists():
        return {}, 0
    try:
        store = CompareStore(paths.compare_db)
    except StorageError:
        return {}, 0
    try:
        rows = store.history("bench")
    finally:
        store.close()
    return calibration_from(rows, machine)


def calibration_from(rows: list[RunRow], machine: MachineSpeed) -> tuple[dict[str, float], int]:
    """As :func:`calibration`, from rows already read; the newest run of each file counts."""
    uncalibrated = replace(machine, scales={}, gpu_bytes_per_s=0.0)
    ratios: dict[str, list[float]] = {}
    seen: set[str] = set()
    for row in rows:  # newest first
        if row.model in seen or not _same_machine(row) or row.settings.get("gpu_layers"):
            continue
        measured = row.metrics.get("tg_tps")
        values = measured if isinstance(measured, list) else [measured]
        numbers = [float(v) for v in values if isinstance(v, (int, float)) and v > 0]
        reads = _row_reads(row)
        if not numbers or reads is None or not reads.shape_key or not reads.total:
            continue
        seen.add(row.model)
        took = 1.0 / statistics.median(numbers)
        ratios.setdefault(reads.shape_key, []).append(took / predicted_seconds(reads, uncalibrated))
    scales = {key: float(statistics.median(values)) for key, values in ratios.items()}
    return scales, sum(len(v) for v in ratios.values())
