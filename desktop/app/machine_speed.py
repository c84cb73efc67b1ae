"""How fast this computer generates: the probe behind every predicted speed (desktop/gguf/speed.py).

The probe times llama.cpp writing tokens with a factory model of some 150 MB (F16, far larger
than any CPU cache, built once into the cache folder) and with a small one of the same depth
that stays in the caches, in one fresh engine worker (the ``speed_probe`` task, beside ``hearth
bench``'s): a token takes a fixed time plus its bytes over the rate, so the small model gives
the fixed time and the difference between the two the effective rate. It
takes a few seconds once; the rate is kept in ``machine-speed.json`` in the cache folder with
a fingerprint of the hardware (CPU model, physical cores, total memory, GPUs), and measured
again when the fingerprint changes. The GPU's rate is not measured: it stays the rule of thumb.

Speed runs recorded on this machine (``hearth bench``, the Speed tab) calibrate it: the median
over those runs of measured / predicted generation speed.

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
from desktop.gguf.speed import GPU_BYTES_PER_S, MachineSpeed, bytes_per_token, predict_tg_tps, rule_of_thumb
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
    rate = value.get("cpu_bytes_per_s")
    return value if isinstance(rate, (int, float)) and rate > 0 else None


def _from_cache(paths: HearthPaths, cached: dict[str, Any], gpu_free_bytes: int) -> MachineSpeed:
    rate = float(cached["cpu_bytes_per_s"])
    fixed = float(cached.get("per_token_s", 0.0))
    note = (
        f"timed llama.cpp writing tokens with a {format_bytes(cached.get('probe_bytes', 0))} model "
        f"on {cached['fingerprint']['cpu']} ({cached['fingerprint']['physical_cores']} cores)"
    )
    gpu = float(GPU_BYTES_PER_S) if gpu_free_bytes > 0 else 0.0
    if gpu:
        note += "; the GPU's rate is a rule of thumb"
    base = MachineSpeed(rate, gpu, max(0, gpu_free_bytes), measured=True, note=note, per_token_s=fixed)
    factor, runs = calibration(paths, base)
    if runs:
        runs_words = f"{runs} speed run{'s' if runs != 1 else ''}"
        base = replace(base, calibration=factor, note=f"{note}; calibrated by {runs_words} on this computer")
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


def _row_per_token(row: RunRow) -> int | None:
    path = Path(row.model)
    fields: dict[str, Any] | None = None
    try:
        fields = read_header(path).fields
    except (OSError, BrokenModel, ValueError):
        fields = None
    size = row.size_bytes or (path.stat().st_size if path.exists() else 0)
    return bytes_per_token(size, fields) if size else None


def calibration(paths: HearthPaths, machine: MachineSpeed) -> tuple[float, int]:
    """The median of measured / predicted generation speed over the speed runs recorded on this
    machine (CPU-only predictions), and how many runs that is; (1.0, 0) when there are none."""
    if not paths.compare_db.exists():
        return 1.0, 0
    try:
        store = CompareStore(paths.compare_db)
    except StorageError:
        return 1.0, 0
    try:
        rows = store.history("bench")
    finally:
        store.close()
    return calibration_from(rows, machine)


def calibration_from(rows: list[RunRow], machine: MachineSpeed) -> tuple[float, int]:
    """As :func:`calibration`, from rows already read; the newest run of each file counts."""
    uncalibrated = MachineSpeed(machine.cpu_bytes_per_s, per_token_s=machine.per_token_s)
    ratios: list[float] = []
    seen: set[str] = set()
    for row in rows:  # newest first
        if row.model in seen or not _same_machine(row) or row.settings.get("gpu_layers"):
            continue
        measured = row.metrics.get("tg_tps")
        values = measured if isinstance(measured, list) else [measured]
        numbers = [float(v) for v in values if isinstance(v, (int, float)) and v > 0]
        per_token = _row_per_token(row)
        if not numbers or not per_token:
            continue
        seen.add(row.model)
        ratios.append(statistics.median(numbers) / predict_tg_tps(per_token, uncalibrated))
    return (float(statistics.median(ratios)), len(ratios)) if ratios else (1.0, 0)
