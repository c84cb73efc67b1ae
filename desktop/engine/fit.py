"""Will a model fit this machine? One place for the arithmetic (Hub badges, library, loading).

Memory needed = the weights (the file size) + the KV cache at the chosen context + a
margin for llama.cpp's compute buffers. The KV cache per token is
2 (K and V) x layers x KV heads x head width x bytes per element (f16: 2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
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


def fit_verdict(needed: int, available: int) -> Fit:
    if needed <= available * FITS_SHARE:
        return "fits"
    if needed <= available * TIGHT_SHARE:
        return "tight"
    return "no"
