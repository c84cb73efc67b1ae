"""The speed probe itself: factory models timed in an engine worker (the ``speed_probe`` task),
for desktop/app/machine_speed.py. Kept apart because building the models loads gguf and numpy,
which the window must not import at start-up.

One small model that stays in the CPU's caches gives the time each token takes whatever the
model's size; one model of each kind of weight (16-bit, 8-bit, 4-bit, 5-bit;
desktop/gguf/speed.py), each some 130-250 MB of long rows, several times a large L3 cache, gives
the rate this computer reads that kind at; and one of short rows (a small model's large 8-bit
vocabulary as its output layer) what each row read block by block costs beyond its bytes.
Their weights are zeros that are never written (speed does not depend on the values): each file
is a header and a hole, made in a millisecond, which the engine reads into memory of its own
(not mapped, so that each page is its own). The large ones are made in a temporary folder and
deleted once timed, as the probe runs again only when the hardware changes.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
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

PROBE_VERSION = 3  # a cache from another version of the probe is measured again
# Timed single-token decodes a repetition, after a warm-up; the fastest repetition counts
# (what the machine can do, not what another program left it).
PROBE_TOKENS = 16
PROBE_REPS = 2
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
    zero_weights=True,
)


@dataclass(frozen=True)
class ProbeModel:
    name: str
    spec: TinyModelSpec
    kind: str  # desktop/gguf/speed.RATE_KINDS, or "" for the small one


# Two layers of 16-bit weights and four of 8-bit, about 250 MB each, eight times a large L3
# cache: half that reads them some 6-10% quicker than a model of hundreds of MB, and the 16-bit
# one unsteadily. Four layers of 4-bit and three of 5-bit, about 130 MB, which size does not
# flatter as much. The 5-bit kind is timed with Q5_0: of the types whose unpacking costs more
# than their bytes, the one in the middle, and the one Gemma 3's Q4_K_M holds where its rows
# are too short for K-quants.
_F16 = _WIDE
_Q8 = replace(_WIDE, n_layer=4, file_type=LlamaFileType.MOSTLY_Q8_0)
_Q4 = replace(_WIDE, n_layer=4, file_type=LlamaFileType.MOSTLY_Q4_0)
_Q5 = replace(_WIDE, n_layer=3, file_type=LlamaFileType.MOSTLY_Q5_0)
KIND_MODELS = (
    ProbeModel("speed-probe-16bit-v3.gguf", _F16, "16-bit"),
    ProbeModel("speed-probe-8bit-v3.gguf", _Q8, "8-bit"),
    ProbeModel("speed-probe-4bit-v3.gguf", _Q4, "4-bit"),
    ProbeModel("speed-probe-5bit-v3.gguf", _Q5, "5-bit"),
)
# Rows of 640 (Gemma 3 270M's width) in a 262,144-entry output layer tied to the embedding, as
# small models have it (Gemma 3's vocabulary; Qwen's is 151,936, Llama 3's 128,256): 8-bit, some
# 190 MB. Its time beyond its bytes is the rows' cost and the vocabulary's (logits handed over
# and sampled from), which as many short rows in a feed-forward layer do not show (they measured
# 0-3 ns a row against 3-7). Half the entries, half the size, is read partly from the L3 cache
# and makes a row look half as costly.
ROWS_MODEL = ProbeModel(
    "speed-probe-rows-v3.gguf",
    replace(
        _WIDE,
        n_vocab=262_144,
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
    "speed-probe-small-v3.gguf",
    replace(_WIDE, n_embd=128, n_layer=12, n_head=4, n_head_kv=2, n_ff=256, name="Hearth speed probe, small"),
    "",
)


def probe_model(paths: HearthPaths, model: ProbeModel = SMALL_MODEL, folder: Path | None = None) -> Path:
    """A probe's model file in ``folder`` (the cache folder by default), built when missing."""
    path = (folder or paths.cache_dir) / model.name
    if not path.exists():
        partial = path.with_suffix(".partial.gguf")
        build_tiny_model(partial, model.spec)
        partial.replace(path)
    return path


def _scratch_folder() -> tempfile.TemporaryDirectory[str]:
    """Where the large models are made: Linux's /dev/shm where there is one, as reading a hole
    there copies the kernel's one zero page, where reading a disk file's hole first fills the
    page cache with as many zeroed pages (half the probe's time in a virtual machine, whose
    memory costs the most the first time it is touched). Elsewhere, the temporary folder."""
    shm = Path("/dev/shm")
    usable = shm.is_dir() and os.access(shm, os.W_OK | os.X_OK)
    return tempfile.TemporaryDirectory(prefix="hearth-speed-probe-", dir=shm if usable else None)


def _remove_older_probes(paths: HearthPaths) -> None:
    """An older probe's models, which this one does not use (its small model stays cached)."""
    current = {m.name for m in (SMALL_MODEL, *KIND_MODELS, ROWS_MODEL)}
    for path in paths.cache_dir.glob("speed-probe-*.gguf"):
        if path.name not in current:
            with contextlib.suppress(OSError):
                path.unlink()


def run_probe(paths: HearthPaths, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Times generation with the probe models in one fresh engine worker. A token takes the
    fixed time plus the bytes of each kind over its rate: the small model's time a token is
    about the fixed time, and each kind's model, less that, gives its rate."""
    from desktop.app.client_engine import ClientTasks

    say = progress or (lambda _text: None)
    start = time.perf_counter()
    say("Measuring this computer's speed (once, a few seconds)")
    _remove_older_probes(paths)
    small = probe_model(paths)
    big: list[Path] = []
    with _scratch_folder() as scratch:
        for model in (*KIND_MODELS, ROWS_MODEL):
            big.append(probe_model(paths, model, Path(scratch)))
        result = ClientTasks().run(
            "speed_probe",
            lambda event: None,
            # The small one last: the first model a fresh worker times runs slower.
            models=[*(str(p) for p in big), str(small)],
            reps=PROBE_REPS,
            n_gen=PROBE_TOKENS,
            n_ctx=PROBE_CONTEXT,
            use_mmap=False,
        )
        reads = [token_reads(0, weight_reads=read_header(p).weight_reads) for p in big]
    *kind_tps, rows_tps, small_tps = (float(x) for x in result["tg_tps"])
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
