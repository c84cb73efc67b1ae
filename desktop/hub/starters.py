"""Recommended starter models for this machine, from a list shipped with Hearth (works offline)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from desktop.gguf.fit import Fit, fit_verdict, memory_needed, system_memory_bytes
from desktop.gguf.speed import (
    MachineSpeed,
    gpu_fraction,
    predict_tg_tps,
    rule_of_thumb,
    speed_verdict,
    token_reads,
)
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

    def memory(self) -> int:
        return memory_needed(int(self.size_bytes * (1 + KV_SHARE_ESTIMATE)), None)

    def fit(self, available_bytes: int) -> Fit:
        return fit_verdict(self.memory(), available_bytes)

    def predicted_tg_tps(self, machine: MachineSpeed) -> float:
        """Generation tokens/s on ``machine`` (desktop/gguf/speed.py): dense models, so the
        file's size is read for each token, at its quant's kind; on the GPU as far as it holds
        the model."""
        reads = token_reads(self.size_bytes, quant=self.quant)
        return predict_tg_tps(reads, machine, gpu_fraction(self.memory(), machine))


def load_starters() -> list[Starter]:
    raw = json.loads(resource_path("starters.json").read_text(encoding="utf-8"))
    return [Starter(**entry) for entry in raw["models"]]


def starters_for(
    available_bytes: int | None = None,
    *,
    cores: int | None = None,
    gpu_bytes: int = 0,
    machine: MachineSpeed | None = None,
) -> list[tuple[Starter, Fit]]:
    """Those that fit and are predicted at least usable here, the most capable (most
    parameters) first; then those that fit but would write slowly, the quickest first; then
    those that would be tight. None that won't fit. ``machine``: this computer's speed
    (measured, desktop/app/machine_speed); without it, the rule of thumb for ``cores`` and
    ``gpu_bytes``."""
    from desktop.engine.hardware import physical_cores

    available = available_bytes if available_bytes is not None else system_memory_bytes()
    n_cores = cores if cores is not None else physical_cores()
    speed = machine or rule_of_thumb(n_cores, gpu_bytes)
    rated = [(s, s.fit(available)) for s in load_starters()]

    def usable(starter: Starter) -> bool:
        return speed_verdict(starter.predicted_tg_tps(speed), True) in ("fast", "usable")

    fits = [r for r in rated if r[1] == "fits"]
    usable_ones = sorted(
        (r for r in fits if usable(r[0])), key=lambda r: (-r[0].parameters, -r[0].size_bytes)
    )
    slow_ones = sorted((r for r in fits if not usable(r[0])), key=lambda r: -r[0].predicted_tg_tps(speed))
    tight = sorted((r for r in rated if r[1] == "tight"), key=lambda r: r[0].size_bytes)
    return usable_ones + slow_ones + tight
