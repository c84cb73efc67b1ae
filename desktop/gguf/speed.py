"""Predicted generation speed: how many tokens a second a build will write on this computer.

Writing one token reads the model's weights once (for a mixture-of-experts model, the shared
weights and the experts the router picks), so generation is bound by how fast the machine reads
memory: tokens/s is about the bytes read per second over the bytes read per token. The rate is
an *effective* one — what llama.cpp achieves, measured by timing it (desktop/app/machine_speed),
or, until then, a rule of thumb from the number of cores. It depends on the weights' type: on a
CPU with few cores, unpacking 5-bit blocks costs more than reading 16-bit floats or llama.cpp's
repacked 4-bit ones, and every row unpacked block by block has a set-up cost, so the probe measures
one rate per kind (:data:`RATE_KINDS`) and the cost of a row, and a file's
bytes are counted by the type of each tensor (the header's tensor list), or by its file type
where only that is known.

Speed runs of a model on this machine calibrate the other builds of the same model (the same
architecture and shape): how much longer (or shorter) a token took than predicted is much the
same share for each of its builds, so their predictions are scaled by it. (A share, not a time:
most of what the probe misses moves with the bytes, as the memory's rate on a shared machine
does, and a 16-bit build's token takes twice a 4-bit one's. Across models it says little: a
tiny model's overheads would mislead about a 7B.)

Qt-free; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from desktop.units import format_bytes


@dataclass(frozen=True)
class MachineSpeed:
    """The effective rate llama.cpp reads a model's weights per generated token, in bytes/s."""

    cpu_bytes_per_s: float
    gpu_bytes_per_s: float = 0.0
    gpu_free_bytes: int = 0
    measured: bool = False  # True from the probe; False from the rule of thumb
    note: str = ""  # how it was worked out, in words
    # The time each token takes whatever the model's size (building and running llama.cpp's
    # graph, syncing threads), measured by the probe with a model that fits in the CPU's caches;
    # 0 for the rule of thumb. It matters for small models only (10 ms against 330 for 2 GB).
    per_token_s: float = 0.0
    # The time each row of a weight matrix unpacked block by block (ROW_KINDS) takes beyond its
    # bytes (a dot product's set-up), measured by the probe with a model of short rows: a small
    # model's large 8-bit vocabulary makes it a quarter of its time. 0 for the rule of thumb.
    per_row_s: float = 0.0
    # Measured rates by kind of weight (RATE_KINDS), bytes/s; a kind missing reads at cpu_bytes_per_s.
    rates: Mapping[str, float] = field(default_factory=dict)
    # By model (shape_key): the time a token took in speed runs here over the predicted time.
    scales: Mapping[str, float] = field(default_factory=dict)
    runs: int = 0  # speed runs the scales come from

    def rate(self, kind: str) -> float:
        return float(self.rates.get(kind, self.cpu_bytes_per_s))


# How llama.cpp reads a weight type on a CPU, by tensor type name (measured on two cores,
# benchmarks/predict_speed): floats, streamed; the 4-bit types its CPU backend repacks for the
# vector units (Q4_0, Q4_K, IQ4_NL, MXFP4), as quick per byte; 8-bit blocks (Q8_0, and Q6_K,
# within a tenth of it), unpacked block by block; and the rest (5-bit, Q4_1, 3- and 2-bit,
# the i-quants but IQ4_NL), whose unpacking costs more than their bytes: on few cores they run
# at two thirds of the memory's rate or less.
RateKind = Literal["16-bit", "8-bit", "4-bit", "5-bit"]
RATE_KINDS: tuple[RateKind, ...] = ("16-bit", "8-bit", "4-bit", "5-bit")
# Kinds unpacked block by block: every row has a set-up cost, so short rows cost more than their
# bytes (a small model's large vocabulary: some 5 ns a row of 640 on two cores). Floats, and the
# repacked 4-bit kind, which reads eight rows at once, show none worth counting.
ROW_KINDS: frozenset[str] = frozenset({"8-bit", "5-bit"})
_FLOAT_TYPES = frozenset({"F32", "F16", "BF16", "F64"})
_REPACKED_PREFIXES = ("Q4_0", "Q4_K", "IQ4_NL", "MXFP4")
_EIGHT_BIT_PREFIXES = ("Q8", "Q6")


def rate_kind(type_name: str) -> RateKind:
    """The kind a tensor type (or a file type's label, "Q4_K_M") is read at."""
    name = type_name.upper()
    if name in _FLOAT_TYPES or name.startswith(("F16", "BF16", "F32")):
        return "16-bit"
    if name.startswith(_REPACKED_PREFIXES):
        return "4-bit"
    if name.startswith(_EIGHT_BIT_PREFIXES):
        return "8-bit"
    return "5-bit"


@dataclass(frozen=True)
class TokenReads:
    """The bytes of weights one token reads, by the kind they are read at, and which model's
    (shape_key: builds of one model share it)."""

    parts: Mapping[str, int]
    shape_key: str = ""
    rows: int = 0  # rows of the weight matrices a token multiplies by, of the ROW_KINDS

    # Kept with a scan (desktop/library/catalog): a summary from another reckoning of kinds
    # or rows is read as missing, and the header is read again.
    VERSION = 2

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    def to_json(self) -> dict[str, Any]:
        parts = dict(self.parts)
        return {"parts": parts, "shape_key": self.shape_key, "rows": self.rows, "version": self.VERSION}

    @classmethod
    def from_json(cls, value: object) -> TokenReads | None:
        if not isinstance(value, dict) or not isinstance(value.get("parts"), dict):
            return None
        if value.get("version") != cls.VERSION:
            return None
        parts = {str(k): int(v) for k, v in value["parts"].items() if isinstance(v, int)}
        key = value.get("shape_key")
        rows = value.get("rows")
        return cls(parts, key if isinstance(key, str) else "", rows if isinstance(rows, int) else 0)


# The rule of thumb: a CPU core streams some 5 GB/s through llama.cpp (a laptop's two cores
# about 10, a desktop's eight about 40), capped by the memory bus; a GPU holding the model some
# 200 GB/s (a mid-range card's memory is 250-450 GB/s; llama.cpp reaches about half to two thirds).
CPU_CORE_BYTES_PER_S = 5_000_000_000
CPU_BYTES_PER_S_CAP = 60_000_000_000
GPU_BYTES_PER_S = 200_000_000_000


def rule_of_thumb(cores: int, gpu_free_bytes: int = 0) -> MachineSpeed:
    """The estimate before the probe has run: about 5 GB/s a core, capped at 60 GB/s."""
    n = max(1, cores)
    cpu = float(min(CPU_BYTES_PER_S_CAP, CPU_CORE_BYTES_PER_S * n))
    gpu = float(GPU_BYTES_PER_S) if gpu_free_bytes > 0 else 0.0
    words = f"estimated from {n} CPU core{'s' if n != 1 else ''} (not measured yet)"
    if gpu_free_bytes > 0:
        words += f" and a GPU with {format_bytes(gpu_free_bytes)} free"
    return MachineSpeed(cpu, gpu, max(0, gpu_free_bytes), note=words)


# Without the shape fields to work it out, the experts' share of a mixture-of-experts model's
# weights: in Mixtral, Qwen3-MoE, DeepSeek and gpt-oss the expert feed-forward blocks hold
# 90-97% of the parameters.
DEFAULT_EXPERT_SHARE = 0.9


def _architecture(fields: Mapping[str, object] | None) -> str | None:
    arch = fields.get("general.architecture") if fields else None
    return arch if isinstance(arch, str) else None


def _int_field(fields: Mapping[str, object], key: str) -> int | None:
    value = fields.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    return None


def expert_share(fields: Mapping[str, object]) -> float:
    """The share of the weights in the routed experts, from the header's shape fields where it
    has them: each layer's experts hold 3 matrices (gate, up, down) of width x expert FFN
    width; the rest is about 4 width² of attention a layer plus the embeddings and output
    (2 x vocabulary x width). Quantization is taken to be the same throughout."""
    arch = _architecture(fields)
    if arch is None:
        return DEFAULT_EXPERT_SHARE
    experts = _int_field(fields, f"{arch}.expert_count")
    layers = _int_field(fields, f"{arch}.block_count")
    width = _int_field(fields, f"{arch}.embedding_length")
    ff = _int_field(fields, f"{arch}.expert_feed_forward_length")
    ff = ff or _int_field(fields, f"{arch}.feed_forward_length")
    if not (experts and layers and width and ff):
        return DEFAULT_EXPERT_SHARE
    vocab_value = fields.get("tokenizer.ggml.tokens")
    vocab = _int_field(fields, f"{arch}.vocab_size")
    vocab = vocab or (len(vocab_value) if isinstance(vocab_value, list) else 32_000)
    expert_params = layers * experts * 3 * width * ff
    other_params = layers * 4 * width * width + 2 * vocab * width
    shared = _int_field(fields, f"{arch}.expert_shared_count")
    if shared:
        shared_ff = _int_field(fields, f"{arch}.expert_shared_feed_forward_length") or ff
        other_params += layers * shared * 3 * width * shared_ff
    return expert_params / (expert_params + other_params)


def bytes_per_token(size_bytes: int, fields: Mapping[str, object] | None = None) -> int:
    """Bytes of weights read to write one token. For a dense model, the file's size (the header
    and vocabulary are a rounding error). For a mixture-of-experts model
    (``<arch>.expert_count`` and ``<arch>.expert_used_count`` in the header), an estimate: the
    non-expert weights whole, plus the used share of the experts' weights (:func:`active_share`)."""
    return int(max(0, int(size_bytes)) * active_share(fields))


def shape_key(fields: Mapping[str, object] | None) -> str:
    """What the builds of one model share and other models do not: architecture, depth, width,
    feed-forward width and experts ("" when the header does not say)."""
    arch = _architecture(fields)
    if fields is None or arch is None:
        return ""
    parts = [arch] + [
        str(fields.get(f"{arch}.{key}", ""))
        for key in ("block_count", "embedding_length", "feed_forward_length", "expert_count")
    ]
    return ":".join(parts) if parts[1] else ""


def active_share(fields: Mapping[str, object] | None) -> float:
    """The share of a model's weights one token reads: 1 for a dense model; for a
    mixture-of-experts one, the non-expert weights plus the used share of the experts'."""
    arch = _architecture(fields)
    if fields is None or arch is None:
        return 1.0
    experts = _int_field(fields, f"{arch}.expert_count")
    used = _int_field(fields, f"{arch}.expert_used_count")
    if not experts or not used or experts <= 1 or used >= experts:
        return 1.0
    share = expert_share(fields)
    return (1.0 - share) + share * used / experts


def token_reads(
    size_bytes: int,
    fields: Mapping[str, object] | None = None,
    *,
    weight_reads: Mapping[str, list[int]] | None = None,
    quant: str | None = None,
) -> TokenReads:
    """What a token of this build reads: from the header's tensor list (``weight_reads``, by
    tensor type) where there is one, else the file's bytes (:func:`bytes_per_token`) at the
    kind of its file type (``quant``, "Q4_K_M"; 8-bit when not known either)."""
    key = shape_key(fields)
    share = active_share(fields)
    if weight_reads:
        parts: dict[str, int] = {}
        rows = 0
        for type_name, (size, type_rows) in weight_reads.items():
            kind = rate_kind(type_name)
            parts[kind] = parts.get(kind, 0) + int(size * share)
            if kind in ROW_KINDS:
                rows += int(type_rows * share)
        return TokenReads(parts, key, rows)
    per_token = bytes_per_token(size_bytes, fields)
    kind = rate_kind(quant) if quant else "8-bit"
    rows = int(estimated_rows(fields) * share) if kind in ROW_KINDS else 0
    return TokenReads({kind: per_token}, key, rows)


def estimated_rows(fields: Mapping[str, object] | None) -> int:
    """The rows a token multiplies by, from the header's shape where the tensor list is not
    known (a remote header): each layer's attention (query, key, value, output) and
    feed-forward (gate, up, down) rows, and the output layer's, one a vocabulary entry."""
    arch = _architecture(fields)
    if fields is None or arch is None:
        return 0
    layers = _int_field(fields, f"{arch}.block_count")
    width = _int_field(fields, f"{arch}.embedding_length")
    if not layers or not width:
        return 0
    heads = _int_field(fields, f"{arch}.attention.head_count") or 1
    kv_heads = _int_field(fields, f"{arch}.attention.head_count_kv") or heads
    ff = _int_field(fields, f"{arch}.feed_forward_length") or 4 * width
    experts = _int_field(fields, f"{arch}.expert_count") or 1
    ff_rows = 2 * ff * experts if experts > 1 else 2 * ff  # gate and up; active share applied later
    kv_rows = 2 * width * kv_heads // heads
    vocab = _int_field(fields, f"{arch}.vocab_size") or 0
    tokens = fields.get("tokenizer.ggml.tokens")
    if not vocab and isinstance(tokens, list):
        vocab = len(tokens)
    count = getattr(tokens, "count", None)
    if not vocab and isinstance(count, int):
        vocab = count  # an ArraySummary of a long vocabulary
    return layers * (2 * width + kv_rows + ff_rows + width) + vocab


def predicted_seconds(reads: TokenReads | int, machine: MachineSpeed, gpu_fraction: float = 0.0) -> float:
    """Seconds a token: the fixed time, the CPU's share of each kind of weight over its rate,
    the GPU's share over the GPU's, and what speed runs of this model here add."""
    if isinstance(reads, int):
        reads = TokenReads({"": reads})
    on_gpu = min(1.0, max(0.0, gpu_fraction)) if machine.gpu_bytes_per_s > 0 else 0.0
    seconds = max(0.0, machine.per_token_s) + reads.rows * max(0.0, machine.per_row_s) * (1.0 - on_gpu)
    for kind, size in reads.parts.items():
        seconds += size * (1.0 - on_gpu) / machine.rate(kind)
    if on_gpu:
        seconds += reads.total * on_gpu / machine.gpu_bytes_per_s
    scale = machine.scales.get(reads.shape_key, 1.0) if reads.shape_key else 1.0
    # A run much quicker than its weights explain was measured wrongly, not faster than memory.
    return seconds * max(0.5, scale)


def predict_tg_tps(per_token: TokenReads | int, machine: MachineSpeed, gpu_fraction: float = 0.0) -> float:
    """Generation tokens/s: 1 / :func:`predicted_seconds`. ``gpu_fraction`` is the share of the
    weights offloaded to the GPU (0 to 1); with no GPU rate it all runs on the CPU.
    ``per_token``: bytes (read at the CPU's rate) or :class:`TokenReads`."""
    total = per_token if isinstance(per_token, int) else per_token.total
    if total <= 0 or machine.cpu_bytes_per_s <= 0:
        return 0.0
    seconds = predicted_seconds(per_token, machine, gpu_fraction)
    return 1.0 / seconds if seconds > 0 else 0.0


def gpu_fraction(memory_bytes: int | None, machine: MachineSpeed) -> float:
    """The share of a model llama.cpp would offload: all of it when the memory it needs fits in
    the GPU's free memory, else that share of it (by layers, roughly by bytes); 0 without a GPU."""
    if not memory_bytes or machine.gpu_bytes_per_s <= 0 or machine.gpu_free_bytes <= 0:
        return 0.0
    return min(1.0, machine.gpu_free_bytes / memory_bytes)


Verdict = Literal["fast", "usable", "slow", "won't fit"]

# People read some 4-5 words a second (about 5-7 tokens) when reading closely and skim at twice
# that: at 15 tokens/s or more a reply runs ahead of the reader ("fast"); from 5 it keeps pace
# with careful reading ("usable"); below that a person waits on every line ("slow").
FAST_TPS = 15.0
USABLE_TPS = 5.0


def speed_verdict(tps: float | None, fits: bool) -> Verdict:
    """A plain word for a predicted speed; an unknown speed that fits counts as usable."""
    if not fits:
        return "won't fit"
    if tps is None:
        return "usable"
    if tps >= FAST_TPS:
        return "fast"
    if tps >= USABLE_TPS:
        return "usable"
    return "slow"


def _rate_words(rate: float) -> str:
    return f"about {format_bytes(rate)}/s"


def explain(per_token: TokenReads | int, machine: MachineSpeed, tps: float) -> str:
    """The tooltip: how the prediction was worked out, in words."""
    shown = f"{tps:.1f}" if tps < 10 else f"{tps:.0f}"
    how = "measured once" if machine.measured else "a rule of thumb"
    reads = per_token if isinstance(per_token, TokenReads) else TokenReads({"": per_token})
    kinds = [k for k in RATE_KINDS if reads.parts.get(k)]
    if machine.rates and kinds:
        rates = ", ".join(f"{k} weights {_rate_words(machine.rate(k))}" for k in kinds)
        reading = f"this computer's CPU reads {rates} ({how})"
    else:
        reading = f"this computer's CPU reads {_rate_words(machine.cpu_bytes_per_s)} ({how})"
    text = f"About {shown} tokens/s: each token reads {format_bytes(reads.total)} of weights, and {reading}"
    scale = machine.scales.get(reads.shape_key, 1.0) if reads.shape_key else 1.0
    if round(abs(scale - 1.0) * 100):
        text += (
            f"; speed runs of this model here took {abs(scale - 1.0):.0%} "
            f"{'longer' if scale > 1 else 'less time'} than that"
        )
    if machine.per_token_s > 0:
        text += f", plus about {machine.per_token_s * 1000:.1f} ms a token whatever the size"
    if machine.per_row_s > 0 and reads.rows:
        row_ms = reads.rows * machine.per_row_s * 1000
        text += f" and {row_ms:.1f} ms for its {reads.rows:,} rows of weights"
    if machine.gpu_bytes_per_s > 0:
        free = format_bytes(machine.gpu_free_bytes)
        text += f"; its GPU {_rate_words(machine.gpu_bytes_per_s)} with {free} free"
    text += "."
    if machine.note:
        text += f" Worked out: {machine.note}."
    return text
