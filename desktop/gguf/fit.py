"""Will a model fit this machine? One place for the arithmetic (Hub badges, library, loading).

Memory needed = the weights (the file size) + the KV cache at the chosen context + a
margin for llama.cpp's compute buffers. The KV cache per token is
2 (K and V) x layers x KV heads x head width x bytes per element (f16: 2).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Fit = Literal["fits", "tight", "no"]

DEFAULT_CONTEXT = 4096
COMPUTE_MARGIN_BYTES = 256 * 1024 * 1024
# Leave room for the system and other apps: above these shares of memory it gets tight.
FITS_SHARE = 0.70
TIGHT_SHARE = 0.90


@dataclass(frozen=True)
class ModelShape:
    """What the KV cache size depends on, from the GGUF header."""

    layers: int
    kv_heads: int
    key_width: int
    value_width: int
    context_length: int | None

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> ModelShape | None:
        arch = fields.get("general.architecture")
        if not isinstance(arch, str):
            return None

        def number(key: str) -> int | None:
            value = fields.get(f"{arch}.{key}")
            if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
                return int(max(value))  # per-layer values (some models vary heads by layer)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        layers, heads, width = (
            number("block_count"),
            number("attention.head_count"),
            number("embedding_length"),
        )
        if not layers or not heads or not width:
            return None
        kv_heads = number("attention.head_count_kv") or heads
        head_width = width // heads
        return cls(
            layers=layers,
            kv_heads=kv_heads,
            key_width=number("attention.key_length") or head_width,
            value_width=number("attention.value_length") or head_width,
            context_length=number("context_length"),
        )

    def kv_cache_bytes(self, n_ctx: int, bytes_per_element: float = 2.0) -> int:
        return int(
            self.layers * n_ctx * self.kv_heads * (self.key_width + self.value_width) * bytes_per_element
        )

    def default_context(self) -> int:
        return min(self.context_length or DEFAULT_CONTEXT, DEFAULT_CONTEXT)


def memory_needed(weights_bytes: int, shape: ModelShape | None, n_ctx: int | None = None) -> int:
    kv = shape.kv_cache_bytes(n_ctx or shape.default_context()) if shape else 0
    return weights_bytes + kv + COMPUTE_MARGIN_BYTES


def system_memory_bytes() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3  # a typical laptop, when the system will not say


def available_memory_now() -> int | None:
    """Memory the system could give a new program now (Linux's MemAvailable: free memory plus
    the caches it can drop; Windows' available physical memory), or None where it will not say."""
    try:
        with Path("/proc/meminfo").open(encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if sys.platform == "win32":
        import ctypes

        class _Status(ctypes.Structure):
            _fields_ = [
                ("length", ctypes.c_ulong),
                ("load", ctypes.c_ulong),
                ("total_phys", ctypes.c_ulonglong),
                ("avail_phys", ctypes.c_ulonglong),
                ("total_page", ctypes.c_ulonglong),
                ("avail_page", ctypes.c_ulonglong),
                ("total_virtual", ctypes.c_ulonglong),
                ("avail_virtual", ctypes.c_ulonglong),
                ("avail_extended", ctypes.c_ulonglong),
            ]

        status = _Status()
        status.length = ctypes.sizeof(_Status)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
            return int(status.avail_phys)
    return None


def fit_verdict(needed: int, available: int) -> Fit:
    if needed <= available * FITS_SHARE:
        return "fits"
    if needed <= available * TIGHT_SHARE:
        return "tight"
    return "no"


# KV cache element sizes by cache type (q8_0: 34 bytes a block of 32, q4_0: 18 a block of 32).
KV_TYPE_BYTES: dict[str, float] = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
GPU_RESERVE_BYTES = 512 * 1024 * 1024  # the GPU's own compute buffers and the desktop's share
GPU_FREE_SHARE = 0.90  # never plan to fill the last tenth of free VRAM


@dataclass(frozen=True)
class OffloadPlan:
    layers: int  # llama.cpp's n_gpu_layers: repeating layers, plus one for the output layer
    total_layers: int  # layers + 1: everything
    gpu_bytes: int  # what the plan puts in VRAM
    reason: str  # in words, for the status line and the log

    @property
    def everything(self) -> bool:
        return self.layers >= self.total_layers


def plan_offload(
    weights_bytes: int,
    shape: ModelShape,
    n_ctx: int,
    free_vram_bytes: int,
    kv_type: str = "f16",
) -> OffloadPlan:
    """How many layers to put on the GPU so that their weights and KV cache fit its free memory.

    The weights are taken as evenly spread over the repeating layers plus one more for the
    output layer and embeddings (close for today's models); each offloaded repeating layer
    also carries its share of the KV cache at ``n_ctx``.
    """
    total = shape.layers + 1
    per_layer_weights = weights_bytes / total
    per_layer_kv = shape.kv_cache_bytes(n_ctx, KV_TYPE_BYTES.get(kv_type, 2.0)) / shape.layers
    budget = free_vram_bytes * GPU_FREE_SHARE - GPU_RESERVE_BYTES
    if budget <= per_layer_weights + per_layer_kv:
        return OffloadPlan(0, total, 0, "too little free GPU memory for even one layer: on the CPU")
    full = weights_bytes + shape.kv_cache_bytes(n_ctx, KV_TYPE_BYTES.get(kv_type, 2.0))
    if full <= budget:
        return OffloadPlan(total, total, int(full), "the whole model fits in GPU memory")
    layers = min(shape.layers, int(budget // (per_layer_weights + per_layer_kv)))
    used = int(layers * (per_layer_weights + per_layer_kv))
    return OffloadPlan(
        layers, total, used, f"{layers} of {total} layers fit in GPU memory; the rest on the CPU"
    )


def retry_layers(tried: int) -> int:
    """After a GPU load failed for memory: half the layers, then none."""
    return tried // 2 if tried > 1 else 0


MIN_AUTO_CONTEXT = 2048


def auto_context(weights_bytes: int, shape: ModelShape | None, trained: int, available_bytes: int) -> int:
    """The default context: the model's trained length, halved until it fits in memory.

    Fits means the weights, the f16 KV cache and the compute margin take at most the "fits"
    share of the memory available (RAM, plus free VRAM when offloading).
    """
    n_ctx = max(trained, MIN_AUTO_CONTEXT)
    if shape is None:
        return min(n_ctx, DEFAULT_CONTEXT)
    while (
        n_ctx > MIN_AUTO_CONTEXT and memory_needed(weights_bytes, shape, n_ctx) > available_bytes * FITS_SHARE
    ):
        n_ctx //= 2
    return max(n_ctx, MIN_AUTO_CONTEXT)
