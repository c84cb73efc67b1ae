"""The sampling values a model's GGUF recommends (llama.cpp's ``general.sampling.*`` keys)."""

from __future__ import annotations

from typing import Any

# GGUF keys (llama.cpp's general.sampling.*) and the Sampling fields they set.
GGUF_SAMPLING_KEYS: dict[str, str] = {
    "general.sampling.temp": "temperature",
    "general.sampling.top_p": "top_p",
    "general.sampling.top_k": "top_k",
    "general.sampling.min_p": "min_p",
    "general.sampling.penalty_repeat": "repeat_penalty",
}


def recommended_sampling(metadata: dict[str, Any]) -> dict[str, float]:
    """The sampling values a model's GGUF recommends, by Sampling field name."""
    found: dict[str, float] = {}
    for key, name in GGUF_SAMPLING_KEYS.items():
        value = metadata.get(key)
        try:
            if value is not None and str(value).strip():
                found[name] = float(value)
        except ValueError:
            continue
    return found
