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
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from gguf import LlamaFileType

from desktop.compare.results import CompareStore, RunRow
from desktop.db import StorageError
from desktop.engine.hardware import physical_cores
from desktop.gguf.fit import system_memory_bytes
from desktop.gguf.header import BrokenModel, read_header
from desktop.gguf.speed import GPU_BYTES_PER_S, MachineSpeed, bytes_per_token, predict_tg_tps, rule_of_thumb
from desktop.gguf.tiny_model import TinyModelSpec, build_tiny_model
from desktop.json_file import read_json, write_json
from desktop.paths import HearthPaths
from desktop.units import format_bytes

CACHE_NAME = "machine-speed.json"
PROBE_NAME = "speed-probe-v1.gguf"
# About 76 M parameters in F16: some 150 MB, ten times a large L3 cache, loaded in well under a second.
PROBE_SPEC = TinyModelSpec(
    n_vocab=512,
    n_embd=768,
    n_layer=12,
    n_head=12,
    n_head_kv=4,
    n_ff=2048,
    name="Hearth speed probe",
    file_type=LlamaFileType.MOSTLY_F16,
    chat_template=None,
)
# The same depth, small enough to stay in the CPU's caches (under 4 MB): its time a token is
# what each token costs whatever the model's size.
SMALL_NAME = "speed-probe-small-v1.gguf"
SMALL_SPEC = replace(
    PROBE_SPEC, n_embd=128, n_head=4, n_head_kv=2, n_ff=256, name="Hearth speed probe (small)"
)
# Timed single-token decodes a repetition, after a warm-up; the fastest
# repetition counts (what the machine can do, not what another program left it).
PROBE_TOKENS = 16
PROBE_REPS = 3


def fingerprint() -> dict[str, Any]:
    """What the measured rate depends on; a change means measuring again."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
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


def probe_model(paths: HearthPaths, name: str = PROBE_NAME, spec: TinyModelSpec = PROBE_SPEC) -> Path:
    """A probe's model file in the cache folder, built the first time."""
    path = paths.cache_dir / name
    if not path.exists():
        partial = path.with_suffix(".partial.gguf")
        build_tiny_model(partial, spec)
        partial.replace(path)
    return path


def run_probe(paths: HearthPaths, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Times generation with the two probe models in one fresh engine worker. A token takes
    the fixed time plus the bytes over the rate: the small model's time a token is about the
    fixed time, and the difference between the two gives the rate."""
    from desktop.app.client_engine import ClientTasks

    say = progress or (lambda _text: None)
    start = time.perf_counter()
    say("Measuring this computer's speed (once, a few seconds)")
    small = probe_model(paths, SMALL_NAME, SMALL_SPEC)
    model = probe_model(paths)
    result = ClientTasks().run(
        "speed_probe",
        lambda event: None,
        models=[str(small), str(model)],
        reps=PROBE_REPS,
        n_gen=PROBE_TOKENS,
    )
    small_tps, tps = (float(x) for x in result["tg_tps"])
    size, small_size = bytes_per_token(model.stat().st_size), bytes_per_token(small.stat().st_size)
    big_s, small_s = 1.0 / tps, 1.0 / small_tps
    if big_s > 1.2 * small_s:
        rate = (size - small_size) / (big_s - small_s)
        fixed = max(0.0, small_s - small_size / rate)
    else:  # the small one no quicker (a noisy machine): the big one's rate alone
        rate, fixed = size * tps, 0.0
    return {
        "cpu_bytes_per_s": rate,
        "per_token_s": fixed,
        "probe_bytes": size,
        "probe_tg_tps": tps,
        "small_probe_tg_tps": small_tps,
        "probe_seconds": time.perf_counter() - start,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


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
