"""Load settings reaching llama.cpp, load progress, switching models, and the GPU-fitting arithmetic."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.engine.client import EngineClient
from desktop.engine.protocol import (
    AUTO_GPU_LAYERS,
    ChatMessage,
    LoadOptions,
    LoadProgress,
    ModelLoaded,
    Sampling,
)
from desktop.gguf.fit import KV_TYPE_BYTES, ModelShape, plan_offload, retry_layers
from tests.test_engine import _collect, client

__all__ = ["client"]  # a fixture, shared with test_engine

GiB = 1024**3
# Llama 3.1 8B: 32 layers, 8 KV heads of 128.
LLAMA_8B = ModelShape(layers=32, kv_heads=8, key_width=128, value_width=128, context_length=131072)
Q4_K_M_8B = int(4.92 * GiB)


def test_settings_reach_llama_cpp_and_load_progress_is_reported(
    client: EngineClient, model_cache: Callable[..., Path]
) -> None:
    # Heads 32 wide: a q8_0 cache needs whole blocks of 32.
    model = model_cache("wide-F32.gguf", n_embd=128, n_ff=256)
    options = LoadOptions(
        str(model),
        n_ctx=1024,
        n_threads=1,
        n_batch=256,
        n_ubatch=128,
        flash_attn=True,
        kv_type="q8_0",
        use_mmap=False,
    )
    client.load(options)
    progress: list[float] = []
    while True:
        event = client.next_event(60)
        if isinstance(event, LoadProgress):
            progress.append(event.fraction)
        else:
            break
    assert isinstance(event, ModelLoaded), event
    assert progress and progress[-1] == 1.0 and progress == sorted(progress)
    assert (event.n_ctx, event.n_threads, event.n_batch, event.n_ubatch) == (1024, 1, 256, 128)
    assert event.flash_attn and event.kv_type == "q8_0" and not event.use_mmap
    assert event.total_layers == 3  # two blocks and the output layer
    # and the model answers with them
    _tokens, stats = _collect(client, client.chat([ChatMessage("user", "hi")], Sampling(max_tokens=4)))
    assert stats.completion_tokens == 4


def test_a_cache_type_the_model_cannot_use_falls_back_to_f16(client: EngineClient, tiny_model: Path) -> None:
    # The tiny model's heads are 16 wide: no whole q8_0 block of 32.
    client.load(LoadOptions(str(tiny_model), flash_attn=True, kv_type="q8_0"))
    loaded = client.wait_loaded()
    assert loaded.kv_type == "f16"
    assert loaded.load_note and "q8_0" in loaded.load_note and "f16" in loaded.load_note


def test_auto_gpu_layers_on_a_cpu_build_say_so(client: EngineClient, tiny_model: Path) -> None:
    import llama_cpp

    client.load(LoadOptions(str(tiny_model), n_gpu_layers=AUTO_GPU_LAYERS))
    loaded = client.wait_loaded()
    if llama_cpp.llama_supports_gpu_offload():  # a GPU build (the device machine)
        assert loaded.load_note
    else:
        assert loaded.gpu_layers == 0 and loaded.backend == "cpu"
        assert loaded.load_note and "CPU only" in loaded.load_note


def test_switching_models_unloads_the_first(
    client: EngineClient, tiny_model: Path, model_cache: Callable[..., Path]
) -> None:
    other = model_cache("other-F32.gguf", seed=9, n_embd=128, n_ff=256)
    client.load(LoadOptions(str(tiny_model)))
    first = client.wait_loaded()
    pid = client.worker_pid
    client.load(LoadOptions(str(other)))
    second = client.wait_loaded()
    assert (first.model_path, second.model_path) == (str(tiny_model), str(other))
    assert client.worker_pid == pid  # one worker, one model at a time


@pytest.mark.parametrize(
    ("free_gib", "n_ctx", "kv_type", "expected"),
    [
        (24, 8192, "f16", 33),  # everything fits a 24 GB card
        (8, 8192, "f16", 33),  # 4.9 GiB + 1 GiB of cache fits in 8 GiB's 90% less the reserve
        # 6 GiB: (5.4 - 0.5) GiB / (149 MiB of weights + 32 MiB of cache a layer) = 27.2
        (6, 8192, "f16", 27),
        (6, 32768, "f16", 17),  # the long context's cache takes the room
        (6, 32768, "q8_0", 22),  # a quantised cache gives it back
        (4, 8192, "f16", 17),
        (2, 4096, "f16", 7),
        (0.5, 4096, "f16", 0),  # less than one layer: the CPU
    ],
)
def test_offload_plan_for_an_8b_model(free_gib: float, n_ctx: int, kv_type: str, expected: int) -> None:
    plan = plan_offload(Q4_K_M_8B, LLAMA_8B, n_ctx, int(free_gib * GiB), kv_type)
    assert plan.layers == expected
    assert plan.total_layers == 33
    # What is planned always fits the usable share of free memory
    assert plan.gpu_bytes <= free_gib * GiB * 0.9 - 512 * 1024**2 or plan.layers == 0
    assert plan.everything == (expected == 33)


def test_kv_cache_arithmetic_and_the_retry_ladder() -> None:
    # Llama 3.1 8B at 8K: 32 x 8192 x 8 x 256 x 2 bytes = 1 GiB of f16 cache
    assert LLAMA_8B.kv_cache_bytes(8192) == GiB
    assert LLAMA_8B.kv_cache_bytes(8192, KV_TYPE_BYTES["q8_0"]) == int(GiB * 34 / 64)
    assert [retry_layers(n) for n in (33, 16, 8, 1, 0)] == [16, 8, 4, 0, 0]


def test_the_default_context_is_the_trained_length_halved_until_it_fits() -> None:
    from desktop.gguf.fit import auto_context

    # 8B at 128K: a 16 GiB cache, 21.2 GiB in all: 64 GiB of memory (0.7 of it) takes it whole,
    # 24 GiB takes 64K (8 GiB of cache), 16 GiB takes 32K.
    assert auto_context(Q4_K_M_8B, LLAMA_8B, 131072, 64 * GiB) == 131072
    assert auto_context(Q4_K_M_8B, LLAMA_8B, 131072, 24 * GiB) == 65536
    assert auto_context(Q4_K_M_8B, LLAMA_8B, 131072, 16 * GiB) == 32768
    assert auto_context(Q4_K_M_8B, LLAMA_8B, 131072, 8 * GiB) == 2048  # never below 2K
    assert auto_context(Q4_K_M_8B, LLAMA_8B, 8192, 64 * GiB) == 8192  # never above the trained length
    assert auto_context(10**9, None, 32768, 64 * GiB) == 4096  # shape unknown: a safe default
