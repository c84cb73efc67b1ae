"""The worker's ceiling on its own heap, so a runaway allocation is an error, not the OOM killer.

On Linux ``RLIMIT_DATA`` counts the process's private writable memory (malloc's heap and
anonymous mappings, where llama.cpp keeps its KV cache and compute buffers, and where a
model read without mmap lands), not a model file mapped read-only, and not address space
reserved without access. ``RLIMIT_AS`` would count the latter too, and GPU drivers reserve
tens of GB of it, so it is never used. The ceiling is the computer's physical memory: one
allocation past it could only be served by swapping the whole machine, and fails instead
(``MemoryError`` in Python, a failed allocation that llama.cpp reports).
"""

from __future__ import annotations

import os
import sys

from desktop.gguf.fit import system_memory_bytes
from desktop.units import format_bytes

# Set by tests (and by a person who wants the worker smaller): the ceiling in bytes.
CEILING_ENV = "HEARTH_WORKER_HEAP_BYTES"

_ceiling: int | None = None


def apply() -> int | None:
    """Sets the ceiling for this process; the bytes set, or None where the platform has none."""
    global _ceiling
    if not sys.platform.startswith("linux"):
        return None
    import resource

    wanted = system_memory_bytes()
    override = os.environ.get(CEILING_ENV, "").strip()
    if override.isdigit() and int(override) > 0:
        wanted = int(override)
    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (wanted, hard))
    except (ValueError, OSError):
        return None
    _ceiling = wanted
    return wanted


def out_of_memory_message(doing: str) -> str:
    """A sentence for a MemoryError met while ``doing`` (e.g. "loading the model")."""
    limit = f" (it may use at most {format_bytes(_ceiling)})" if _ceiling else ""
    return (
        f"The engine ran out of memory while {doing}{limit}. "
        "Try a smaller model or a shorter context, or close other programs."
    )
