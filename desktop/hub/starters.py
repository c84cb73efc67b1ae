"""Recommended starter models for this machine, from a list shipped with Hearth (works offline)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from desktop.gguf.fit import Fit, fit_verdict, memory_needed, system_memory_bytes
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


def starters_for(available_bytes: int | None = None) -> list[tuple[Starter, Fit]]:
    """Those that fit, the most capable first, then those that would be tight; none that won't fit."""
    available = available_bytes if available_bytes is not None else system_memory_bytes()
    rated = [(s, s.fit(available)) for s in load_starters()]
    fits = sorted((r for r in rated if r[1] == "fits"), key=lambda r: -r[0].size_bytes)
    tight = sorted((r for r in rated if r[1] == "tight"), key=lambda r: -r[0].size_bytes)
    return fits + tight
