"""How much of the CPUs other processes took while a measurement ran, and measuring again when too much.

On a machine shared with other work, a busy neighbour costs a 2-thread decode far more than
its share (each of llama.cpp's barriers waits for the thread that lost its core). Ours is
this process and its children, living or finished (a worker, llama-bench); everything else
busy in /proc/stat, the hypervisor's steal included, is someone else's. Linux only; elsewhere
nothing is seen and every measurement is kept.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
T = TypeVar("T")


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
        for child in children:
            found += [child, *_descendants(child)]
    return found


def _snapshot() -> tuple[float, float, float]:
    """Seconds of all CPUs, of them busy, and of them ours, so far."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except OSError:
        return 0.0, 0.0, 0.0
    total = sum(fields) / TICK
    busy = total - (fields[3] + fields[4]) / TICK
    times = os.times()
    ours = times.user + times.system + times.children_user + times.children_system
    for pid in _descendants(os.getpid()):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ours += (int(stat[11]) + int(stat[12])) / TICK
        except (OSError, IndexError, ValueError):
            pass
    return total, busy, ours


def measure_quietly(fn: Callable[[], T], limit: float = 0.05, tries: int = 4) -> tuple[T, float]:
    """``fn()``, run again (``tries`` times at most) while others took over ``limit`` of the CPUs.

    Returns the least disturbed result and the share others took during it. A child that
    starts and ends inside ``fn`` counts as ours once it is waited for.
    """
    best: tuple[T, float] | None = None
    for _ in range(max(1, tries)):
        total0, busy0, ours0 = _snapshot()
        value = fn()
        total1, busy1, ours1 = _snapshot()
        others = max(0.0, (busy1 - busy0) - (ours1 - ours0)) / max(total1 - total0, 1e-9)
        if best is None or others < best[1]:
            best = (value, others)
        if others <= limit:
            break
    assert best is not None
    return best
