"""Recommended starter models for this machine, from a list shipped with Hearth (works offline)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from desktop.gguf.fit import Fit, fit_verdict, memory_needed, system_memory_bytes
from desktop.gguf.speed import predict_tg_tps, rule_of_thumb
from desktop.resources import resource_path

# Without a header to read, the KV cache at the default context is taken as a share of the weights.
KV_SHARE_ESTIMATE = 0.15


@dataclass(frozen=True)
class Starter:
    repo_id: str
    quant: str
    size_bytes: int
    parameters: int
    licence: str
    note: str

    def fit(self, available_bytes: int) -> Fit:
        needed = memory_needed(int(self.size_bytes * (1 + KV_SHARE_ESTIMATE)), None)
        return fit_verdict(needed, available_bytes)


def load_starters() -> list[Starter]:
    raw = json.loads(resource_path("starters.json").read_text(encoding="utf-8"))
    return [Starter(**entry) for entry in raw["models"]]


# "Quick" is reading speed: 8 tokens/s or more.
QUICK_TOKENS_PER_S = 8.0


def rough_tokens_per_s(size_bytes: int, cores: int, gpu_bytes: int = 0) -> float:
    """Generation speed by the rule of thumb (desktop/gguf/speed.py): on the GPU when the model
    fits in its memory, else on the CPU."""
    machine = rule_of_thumb(cores, gpu_bytes)
    on_gpu = 1.0 if gpu_bytes and size_bytes * (1 + KV_SHARE_ESTIMATE) <= gpu_bytes else 0.0
    return predict_tg_tps(max(1, size_bytes), machine, on_gpu)


def starters_for(
    available_bytes: int | None = None, *, cores: int | None = None, gpu_bytes: int = 0
) -> list[tuple[Starter, Fit]]:
    """Those quick here, the most capable first; then those that fit but write slowly, the
    quickest first; then those that would be tight. None that won't fit."""
    from desktop.engine.hardware import physical_cores

    available = available_bytes if available_bytes is not None else system_memory_bytes()
    n_cores = cores if cores is not None else physical_cores()
    rated = [(s, s.fit(available)) for s in load_starters()]

    def quick(starter: Starter) -> bool:
        return rough_tokens_per_s(starter.size_bytes, n_cores, gpu_bytes) >= QUICK_TOKENS_PER_S

    fits = [r for r in rated if r[1] == "fits"]
    quick_ones = sorted((r for r in fits if quick(r[0])), key=lambda r: -r[0].size_bytes)
    slow_ones = sorted((r for r in fits if not quick(r[0])), key=lambda r: r[0].size_bytes)
    tight = sorted((r for r in rated if r[1] == "tight"), key=lambda r: r[0].size_bytes)
    return quick_ones + slow_ones + tight
