"""Predicted generation speed: how many tokens a second a build will write on this computer.

Writing one token reads the model's weights once (for a mixture-of-experts model, the shared
weights and the experts the router picks), so generation is bound by how fast the machine reads
memory: tokens/s is about the bytes read per second over the bytes read per token. The rate is
an *effective* one — what llama.cpp achieves, measured by timing it (desktop/app/machine_speed),
or, until then, a rule of thumb from the number of cores. Bench runs on this machine calibrate
it: the median of measured over predicted multiplies every prediction.

Qt-free; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from desktop.units import format_bytes


@dataclass(frozen=True)
class MachineSpeed:
    """The effective rate llama.cpp reads a model's weights per generated token, in bytes/s."""

    cpu_bytes_per_s: float
    gpu_bytes_per_s: float = 0.0
    gpu_free_bytes: int = 0
    measured: bool = False  # True from the probe; False from the rule of thumb
    calibration: float = 1.0  # median measured / predicted over this machine's bench runs
    note: str = ""  # how it was worked out, in words
    # The time each token takes whatever the model's size (building and running llama.cpp's
    # graph, syncing threads), measured by the probe with a model that fits in the CPU's caches;
    # 0 for the rule of thumb. It matters for small models only (10 ms against 330 for 2 GB).
    per_token_s: float = 0.0


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
    arch = fields.get("general.architecture")
    if not isinstance(arch, str):
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
    non-expert weights whole, plus the used share of the experts' weights, the experts' share of
    the file from :func:`expert_share`."""
    size = max(0, int(size_bytes))
    if not fields:
        return size
    arch = fields.get("general.architecture")
    if not isinstance(arch, str):
        return size
    experts = _int_field(fields, f"{arch}.expert_count")
    used = _int_field(fields, f"{arch}.expert_used_count")
    if not experts or not used or experts <= 1 or used >= experts:
        return size
    share = expert_share(fields)
    return int(size * ((1.0 - share) + share * used / experts))


def predict_tg_tps(per_token: int, machine: MachineSpeed, gpu_fraction: float = 0.0) -> float:
    """Generation tokens/s: 1 / (CPU share / CPU rate + GPU share / GPU rate + the fixed time a
    token) x calibration. ``gpu_fraction`` is the share of the weights offloaded to the GPU (0
    to 1); with no GPU rate it all runs on the CPU."""
    if per_token <= 0 or machine.cpu_bytes_per_s <= 0:
        return 0.0
    on_gpu = min(1.0, max(0.0, gpu_fraction)) if machine.gpu_bytes_per_s > 0 else 0.0
    seconds = max(0.0, machine.per_token_s) + per_token * (1.0 - on_gpu) / machine.cpu_bytes_per_s
    if on_gpu:
        seconds += per_token * on_gpu / machine.gpu_bytes_per_s
    return 1.0 / seconds * machine.calibration


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


def explain(per_token: int, machine: MachineSpeed, tps: float) -> str:
    """The tooltip: how the prediction was worked out, in words."""
    shown = f"{tps:.1f}" if tps < 10 else f"{tps:.0f}"
    how = "measured once" if machine.measured else "a rule of thumb"
    text = (
        f"About {shown} tokens/s: each token reads {format_bytes(per_token)} of weights, and this "
        f"computer's CPU reads {_rate_words(machine.cpu_bytes_per_s)} ({how})"
    )
    if machine.per_token_s > 0:
        text += f", plus about {machine.per_token_s * 1000:.0f} ms a token whatever the size"
    if machine.gpu_bytes_per_s > 0:
        free = format_bytes(machine.gpu_free_bytes)
        text += f"; its GPU {_rate_words(machine.gpu_bytes_per_s)} with {free} free"
    if machine.calibration != 1.0:
        text += f"; scaled by {machine.calibration:.2f} from speeds measured on this computer"
    text += "."
    if machine.note:
        text += f" Worked out: {machine.note}."
    return text
