"""Which model architectures this build of llama.cpp knows.

llama.cpp keeps its architecture names as strings in libllama; looking for a name there
(read once, never loaded) tells a file this build cannot run before anyone tries. The
linker may store a name as the tail of a longer one ("bert" inside "nomic-bert"), so the
test is lenient: a rare false "known" only means the load itself reports the problem.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path


@functools.cache
def _libllama_bytes() -> bytes | None:
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "lib"
    for name in ("libllama.so", "libllama.dylib", "llama.dll"):
        if (folder / name).is_file():
            return (folder / name).read_bytes()
    return None


@functools.cache
def is_known_architecture(architecture: str) -> bool | None:
    """True or False for this build; None when the library cannot be read."""
    data = _libllama_bytes()
    if data is None:
        return None
    return architecture.encode() + b"\x00" in data
