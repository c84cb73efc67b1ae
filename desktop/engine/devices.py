"""The compute devices of this llama.cpp build (CPU, CUDA, Vulkan, Metal) with their memory.

llama-cpp-python does not bind ggml's backend-device API, so it is reached through ctypes on
the ggml libraries the package ships. Loading them initialises every backend (a GPU context
included), so the GUI asks a short-lived ``hearth devices --json`` process instead of doing
it in its own process.
"""

from __future__ import annotations

import ctypes
import functools
import json
import logging
import os
import subprocess
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from desktop.childproc import child_argv
from desktop.gguf.fit import available_memory_now, system_memory_bytes

DEVICE_TYPES = ("cpu", "gpu", "igpu", "accel", "meta")
LOW_PRIORITY_ENV = "HEARTH_LOW_PRIORITY"


@dataclass(frozen=True)
class Device:
    backend: str  # "CPU", "CUDA", "Vulkan", "Metal", ...
    name: str
    description: str
    type: str  # "cpu", "gpu", "igpu", "accel"
    memory_total_bytes: int
    memory_free_bytes: int


@dataclass(frozen=True)
class _Ggml:
    registry: ctypes.CDLL  # libggml: the backend registry
    base: ctypes.CDLL  # libggml-base: devices and their memory
    folder: Path  # llama_cpp/lib, where a loadable-module build keeps its backends


@functools.cache
def _ggml() -> _Ggml:
    """The ggml libraries libllama itself uses (not copies of them), their C signatures set.

    The wheel ships each library under three names as three separate files; libllama needs
    ggml by its soname (libggml.so.0), while llama-cpp-python opens libggml.so for its own
    use. Opening another of those files loads a second ggml, with a registry of its own: a
    GPU initialised twice, and backends loaded into the wrong one.
    """
    import llama_cpp  # loads libllama and, through it, the ggml it needs

    folder = Path(llama_cpp.__file__).resolve().parent / "lib"
    names = {p.name: p for p in folder.iterdir()} if folder.is_dir() else {}

    def load(stem: str) -> ctypes.CDLL:
        sonames = (f"lib{stem}.so.0", f"lib{stem}.0.dylib")
        for candidate in (*sonames, f"lib{stem}.so", f"lib{stem}.dylib", f"{stem}.dll"):
            if candidate in names:
                return ctypes.CDLL(str(names[candidate]))
        return ctypes.CDLL(f"lib{stem}.so")  # let the loader search

    registry, base = load("ggml"), load("ggml-base")
    registry.ggml_backend_reg_count.restype = ctypes.c_size_t
    registry.ggml_backend_load_all_from_path.restype = None
    registry.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
    registry.ggml_backend_dev_count.restype = ctypes.c_size_t
    registry.ggml_backend_dev_get.restype = ctypes.c_void_p
    registry.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
    for fn in ("ggml_backend_dev_name", "ggml_backend_dev_description"):
        getattr(base, fn).restype = ctypes.c_char_p
        getattr(base, fn).argtypes = [ctypes.c_void_p]
    base.ggml_backend_dev_type.restype = ctypes.c_int
    base.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
    base.ggml_backend_dev_memory.restype = None
    base.ggml_backend_dev_memory.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.POINTER(ctypes.c_size_t),
    ]
    base.ggml_backend_dev_backend_reg.restype = ctypes.c_void_p
    base.ggml_backend_dev_backend_reg.argtypes = [ctypes.c_void_p]
    base.ggml_backend_reg_name.restype = ctypes.c_char_p
    base.ggml_backend_reg_name.argtypes = [ctypes.c_void_p]
    return _Ggml(registry, base, folder)


_backends_lock = threading.Lock()


def load_backends() -> int:
    """Registers this build's backends where they are separate modules; the number registered.

    A build with GGML_BACKEND_DL (the installers' portable build) registers nothing until
    asked: its CPU backend comes as one module per instruction-set level (x64, SSE4.2, AVX2,
    AVX-512 ...) and ggml loads the best this CPU runs, and any GPU backend whose driver is
    present. A build with its backends linked in has them registered already; nothing to do.
    """
    ggml = _ggml()
    with _backends_lock:
        if ggml.registry.ggml_backend_reg_count() == 0:
            # ggml says which module it loaded through llama-cpp-python's logger, which prints
            # everything until a model is loaded with verbose=False; the worker's own log keeps
            # warnings and errors, and `hearth devices` stays a clean table.
            quiet = logging.getLogger("llama-cpp-python")
            if quiet.level == logging.NOTSET:
                quiet.setLevel(logging.ERROR)
            ggml.registry.ggml_backend_load_all_from_path(str(ggml.folder).encode())
        return int(ggml.registry.ggml_backend_reg_count())


def list_devices() -> list[Device]:
    """In this process: every device ggml registered, with its memory now."""
    load_backends()
    ggml = _ggml()
    registry, base = ggml.registry, ggml.base

    devices: list[Device] = []
    for index in range(registry.ggml_backend_dev_count()):
        dev = registry.ggml_backend_dev_get(index)
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        base.ggml_backend_dev_memory(dev, ctypes.byref(free), ctypes.byref(total))
        kind = base.ggml_backend_dev_type(dev)
        reg = base.ggml_backend_dev_backend_reg(dev)
        devices.append(
            Device(
                backend=(base.ggml_backend_reg_name(reg) or b"?").decode(errors="replace"),
                name=(base.ggml_backend_dev_name(dev) or b"?").decode(errors="replace"),
                description=(base.ggml_backend_dev_description(dev) or b"").decode(errors="replace"),
                type=DEVICE_TYPES[kind] if 0 <= kind < len(DEVICE_TYPES) else "accel",
                memory_total_bytes=int(total.value),
                memory_free_bytes=_free_bytes(kind, int(free.value), int(total.value)),
            )
        )
    return devices


def _free_bytes(kind: int, reported: int, total: int) -> int:
    """ggml's CPU device reports its whole RAM as free; the system knows what is available."""
    if 0 <= kind < len(DEVICE_TYPES) and DEVICE_TYPES[kind] == "cpu" and reported >= total:
        available = available_memory_now()
        if available is not None:
            return min(available, total)
    return reported


def probe_devices(timeout: float = 60.0) -> list[Device]:
    """The same list, asked of a separate process (for the GUI); empty if that fails."""
    argv, env = probe_command()
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=True, env=env)
        return parse_devices(result.stdout)
    except (OSError, subprocess.SubprocessError):
        return []


def probe_command() -> tuple[list[str], dict[str, str]]:
    """How to ask a separate process for the devices: its argv and environment (low priority)."""
    return child_argv("devices", "--json"), {**os.environ, LOW_PRIORITY_ENV: "1"}


def parse_devices(text: str) -> list[Device]:
    """The JSON of ``hearth devices --json``; empty when it is not that."""
    try:
        return [Device(**row) for row in json.loads(text)]
    except (ValueError, TypeError):
        return []


def gpu_memory_bytes(devices: list[Device]) -> int:
    """Free memory on dedicated GPUs (integrated ones share the system's RAM)."""
    return sum(d.memory_free_bytes for d in devices if d.type == "gpu")


def available_memory_bytes(devices: list[Device]) -> int:
    """What a model can spread over: system RAM, plus free VRAM when layers are offloaded."""
    return system_memory_bytes() + gpu_memory_bytes(devices)


def device_rows(devices: list[Device]) -> list[dict[str, object]]:
    return [asdict(d) for d in devices]
