"""The speed probe itself: two factory models of one depth timed in an engine worker (the
``speed_probe`` task), for desktop/app/machine_speed.py. Kept apart because building the models
loads gguf and numpy, which the window must not import at start-up."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from gguf import LlamaFileType

from desktop.gguf.speed import bytes_per_token
from desktop.gguf.tiny_model import TinyModelSpec, build_tiny_model
from desktop.paths import HearthPaths

# Timed single-token decodes a repetition, after a warm-up; the fastest repetition counts
# (what the machine can do, not what another program left it).
PROBE_TOKENS = 16
PROBE_REPS = 3
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
