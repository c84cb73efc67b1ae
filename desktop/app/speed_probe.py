"""The speed probe itself: factory models timed in an engine worker (the ``speed_probe`` task),
for desktop/app/machine_speed.py. Kept apart because building the models loads gguf and numpy,
which the window must not import at start-up.

One small model that stays in the CPU's caches gives the time each token takes whatever the
model's size; one model of each kind of weight (16-bit, 8-bit, 4-bit; desktop/gguf/speed.py),
each some 250 MB of long rows, eight times a large L3 cache, gives the rate this computer reads
that kind at; and one of short rows (a small model's large vocabulary as its output layer)
what each row costs beyond its bytes.
Their weights are a random tile repeated (speed does not depend on the values), so they build in
a fraction of a second each; they are deleted once timed, as the probe runs again only when the
hardware changes.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gguf import LlamaFileType

from desktop.gguf.header import read_header
from desktop.gguf.speed import token_reads
from desktop.gguf.tiny_model import TinyModelSpec, build_tiny_model
from desktop.paths import HearthPaths

PROBE_VERSION = 2  # a cache from another version of the probe is measured again
# Timed single-token decodes a repetition, after a warm-up; the fastest repetition counts
# (what the machine can do, not what another program left it).
PROBE_TOKENS = 16
PROBE_REPS = 3
# As `hearth bench` loads a model: a smaller context makes llama.cpp's graph measurably quicker
# for 16-bit weights (about 15% on two cores), which a person's chats would not see.
PROBE_CONTEXT = 1024
_WIDE = TinyModelSpec(
    n_vocab=512,
    n_embd=2048,
    n_layer=2,
    n_head=16,
    n_head_kv=4,
    n_ff=8192,
    name="Hearth speed probe",
    file_type=LlamaFileType.MOSTLY_F16,
    chat_template=None,
    tiled_weights=True,
)


@dataclass(frozen=True)
class ProbeModel:
    name: str
    spec: TinyModelSpec
    kind: str  # desktop/gguf/speed.RATE_KINDS, or "" for the small one


# About 250 MB each: two layers of 16-bit weights, four of 8-bit, eight of 4-bit.
_Q8 = replace(_WIDE, n_layer=4, file_type=LlamaFileType.MOSTLY_Q8_0)
_Q4 = replace(_WIDE, n_layer=8, file_type=LlamaFileType.MOSTLY_Q4_0)
KIND_MODELS = (
    ProbeModel("speed-probe-16bit-v2.gguf", _WIDE, "16-bit"),
    ProbeModel("speed-probe-8bit-v2.gguf", _Q8, "8-bit"),
    ProbeModel("speed-probe-4bit-v2.gguf", _Q4, "4-bit"),
)
# Rows of 640 (Gemma 3 270M's width) in a 131,072-entry output layer tied to the embedding, as
# small models have it: 8-bit, some 90 MB. Its time beyond its bytes is the rows' cost.
ROWS_MODEL = ProbeModel(
    "speed-probe-rows-v2.gguf",
    replace(
        _WIDE,
        n_vocab=131_072,
        n_embd=640,
        n_layer=1,
        n_head=10,
        n_head_kv=2,
        n_ff=1024,
        tied_output=True,
        file_type=LlamaFileType.MOSTLY_Q8_0,
    ),
    "8-bit",
)
# The same depth as a small model's, small enough to stay in the CPU's caches (under 4 MB).
SMALL_MODEL = ProbeModel(
    "speed-probe-small-v2.gguf",
    replace(_WIDE, n_embd=128, n_layer=12, n_head=4, n_head_kv=2, n_ff=256, name="Hearth speed probe, small"),
    "",
)


def probe_model(paths: HearthPaths, model: ProbeModel = SMALL_MODEL) -> Path:
    """A probe's model file in the cache folder, built when missing."""
    path = paths.cache_dir / model.name
    if not path.exists():
        partial = path.with_suffix(".partial.gguf")
        build_tiny_model(partial, model.spec)
        partial.replace(path)
    return path


def run_probe(paths: HearthPaths, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Times generation with the probe models in one fresh engine worker. A token takes the
    fixed time plus the bytes of each kind over its rate: the small model's time a token is
    about the fixed time, and each kind's model, less that, gives its rate."""
    from desktop.app.client_engine import ClientTasks

    say = progress or (lambda _text: None)
    start = time.perf_counter()
    say("Measuring this computer's speed (once, a few seconds)")
    small = probe_model(paths)
    big: list[Path] = []
    try:
        for model in (*KIND_MODELS, ROWS_MODEL):
            big.append(probe_model(paths, model))
        result = ClientTasks().run(
            "speed_probe",
            lambda event: None,
            models=[str(small), *(str(p) for p in big)],
            reps=PROBE_REPS,
            n_gen=PROBE_TOKENS,
            n_ctx=PROBE_CONTEXT,
        )
        reads = [token_reads(0, weight_reads=read_header(p).weight_reads) for p in big]
    finally:
        for path in big:  # some 850 MB the cache folder need not keep
            with contextlib.suppress(OSError):
                path.unlink()
    small_tps, *kind_tps, rows_tps = (float(x) for x in result["tg_tps"])
    fixed = 1.0 / small_tps
    rates: dict[str, float] = {}
    for model, read, tps in zip(KIND_MODELS, reads[:-1], kind_tps, strict=True):
        seconds = 1.0 / tps
        # A noisy machine can make the small one no quicker: then the whole time counts.
        rates[model.kind] = read.total / (seconds - fixed) if seconds > 1.2 * fixed else read.total / seconds
    rows = reads[-1]
    beyond_bytes = 1.0 / rows_tps - fixed - rows.total / rates[ROWS_MODEL.kind]
    return {
        "probe_version": PROBE_VERSION,
        "cpu_bytes_per_s": statistics.median(rates.values()),
        "rates": rates,
        "per_token_s": fixed,
        "per_row_s": max(0.0, beyond_bytes / rows.rows) if rows.rows else 0.0,
        "probe_bytes": max(r.total for r in reads),
        "probe_tg_tps": dict(zip((m.kind for m in KIND_MODELS), kind_tps, strict=True)),
        "rows_probe_tg_tps": rows_tps,
        "small_probe_tg_tps": small_tps,
        "probe_seconds": time.perf_counter() - start,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
