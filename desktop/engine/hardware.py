"""What this machine offers the engine."""

from __future__ import annotations

import os
from pathlib import Path


def physical_cores() -> int:
    """Physical cores: llama.cpp runs fastest with one thread per core, not per hyper-thread.

    llama-cpp-python's own default is half the logical CPUs, which on a small machine
    without hyper-threading leaves half the cores idle.
    """
    logical = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cpuinfo = Path("/proc/cpuinfo")
    try:
        cores: set[tuple[str, str]] = set()
        physical = core = ""
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "physical id":
                physical = value.strip()
            elif key == "core id":
                core = value.strip()
                cores.add((physical, core))
        if cores:
            return max(1, min(len(cores), logical))
    except OSError:
        pass
    return max(1, logical)
