from __future__ import annotations

from pathlib import Path

import pytest

from desktop.engine.devices import (
    Device,
    available_memory_bytes,
    gpu_memory_bytes,
    list_devices,
    probe_devices,
)
from desktop.gguf.fit import system_memory_bytes

GB = 1_000_000_000


def test_this_build_lists_its_cpu_with_memory() -> None:
    devices = list_devices()
    cpu = next(d for d in devices if d.type == "cpu")
    assert cpu.backend == "CPU" and cpu.memory_total_bytes > GB
    assert 0 < cpu.memory_free_bytes <= cpu.memory_total_bytes


def test_devices_are_read_from_the_ggml_libllama_uses_not_a_second_copy() -> None:
    """The wheel ships each ggml library as several separate files; opening another one than
    libllama's loads a second ggml with its own registry (a GPU set up twice, and a portable
    build's backends loaded where libllama never looks)."""
    import subprocess
    import sys

    probe = (
        "from desktop.engine.devices import list_devices, load_backends\n"
        "assert list_devices() and load_backends() >= 1\n"
        "import os\n"
        "maps = {line.split()[-1] for line in open('/proc/self/maps') if 'libggml' in line}\n"
        "print('\\n'.join(sorted(os.path.basename(m) for m in maps)))\n"
    )
    if not Path("/proc/self/maps").exists():
        pytest.skip("needs /proc (Linux)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    mapped = result.stdout.split()
    ggml = [name for name in mapped if name.startswith("libggml.so")]
    assert len(ggml) == 1, mapped  # one ggml in the process: libllama's (libggml.so.0)


def test_the_gui_asks_another_process_and_gets_the_same_list() -> None:
    assert [(d.backend, d.name, d.type) for d in probe_devices()] == [
        (d.backend, d.name, d.type) for d in list_devices()
    ]


def test_dedicated_gpu_memory_counts_and_integrated_does_not() -> None:
    devices = [
        Device("CPU", "CPU", "host", type="cpu", memory_total_bytes=32 * GB, memory_free_bytes=20 * GB),
        Device("CUDA", "CUDA0", "RTX", type="gpu", memory_total_bytes=24 * GB, memory_free_bytes=22 * GB),
        Device(
            "Vulkan", "Vulkan0", "iGPU", type="igpu", memory_total_bytes=16 * GB, memory_free_bytes=16 * GB
        ),
    ]
    assert gpu_memory_bytes(devices) == 22 * GB
    assert available_memory_bytes(devices) == system_memory_bytes() + 22 * GB
