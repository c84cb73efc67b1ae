"""What this machine offers the engine."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from pathlib import Path


def cpu_name() -> str:
    """The CPU's model name as the system gives it ("AMD EPYC 7B13"), else its architecture."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return cpu


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


def reset_peak_rss() -> None:
    """Starts the peak over (Linux: clear_refs 5), so it is one model's when a worker loads another."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_bytes() -> int:
    """The most resident memory this process has held since the last ``reset_peak_rss`` where
    the system keeps such a peak (Linux VmHWM), else since it started; 0 where it does not say."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # macOS counts bytes
