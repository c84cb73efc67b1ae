"""What a bug report needs, in plain text: versions, devices, the engine's state and model,
settings and the log's last lines."""

from __future__ import annotations

import platform
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version

from desktop import __version__
from desktop.engine.devices import Device
from desktop.engine.protocol import ModelLoaded
from desktop.paths import HearthPaths
from desktop.settings import Settings
from desktop.units import format_bytes

# Window state is noise in a bug report.
_PRIVATE = ("window_geometry", "window_state", "chat_splitter_state", "extra")


def installed(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def device_in_words(device: Device) -> str:
    """ "AMD EPYC: the CPU, 25.3 GB of memory, 24.1 GB available", "NVIDIA RTX 4070: a GPU, ..."."""
    name = device.description or device.name
    if device.type == "cpu":
        what = f"the CPU, {format_bytes(device.memory_total_bytes)} of memory"
        free = "available"
    else:
        kind = {"gpu": "a GPU", "igpu": "an integrated GPU"}.get(device.type, "an accelerator")
        what = f"{kind} ({device.backend}), {format_bytes(device.memory_total_bytes)} of its own memory"
        free = "free"
    return f"{name}: {what}, {format_bytes(device.memory_free_bytes)} {free}"


def engine_build_in_words(devices: list[Device]) -> str:
    """Which llama.cpp build this is, as a person asks it: does it use a GPU?"""
    backends = sorted({d.backend for d in devices if d.type != "cpu"})
    engine = f"llama.cpp through llama-cpp-python {installed('llama_cpp_python')}"
    if not devices:
        return engine
    return f"{engine}, {' and '.join(backends)} build" if backends else f"{engine}, CPU build"


def diagnostics_text(
    *,
    paths: HearthPaths,
    settings: Settings,
    devices: list[Device],
    engine_state: str,
    model: ModelLoaded | None,
    toolkit: str,
) -> str:
    """``toolkit``: the front end's own versions ("PySide6 6.8 (Qt 6.8)")."""
    lines = [
        f"Hearth {__version__} · Python {platform.python_version()} · {platform.platform()}",
        f"{toolkit} · llama-cpp-python {installed('llama_cpp_python')} · "
        f"huggingface_hub {installed('huggingface_hub')} · gguf {installed('gguf')}",
        "Devices:",
    ]
    lines += [
        f"  {d.backend} {d.name} ({d.type}): {format_bytes(d.memory_free_bytes)} free of "
        f"{format_bytes(d.memory_total_bytes)}"
        for d in devices
    ] or ["  (not probed yet)"]
    lines.append(f"Engine: {engine_state}")
    if model is not None:
        lines += [
            f"  {model.model_path}: {model.architecture}, context {model.n_ctx}, "
            f"GPU layers {model.gpu_layers} of {model.total_layers} ({model.backend}), "
            f"threads {model.n_threads}, batch {model.n_batch}/{model.n_ubatch}, "
            f"flash attention {model.flash_attn}, KV {model.kv_type}, load {model.load_ms:.0f} ms",
            f"  {model.load_note or ''}".rstrip(),
            f"  llama.cpp: {model.build_info}",
        ]
    kept = {k: v for k, v in asdict(settings).items() if k not in _PRIVATE}
    lines.append("Settings: " + ", ".join(f"{k}={v}" for k, v in kept.items()))
    try:
        tail = paths.log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
    except OSError:
        tail = []
    lines += ["Log (last lines):", *(f"  {line}" for line in tail)]
    return "\n".join(line for line in lines if line)
