"""The GPU path, where there is one: automatic layer fitting, and tokens/s against the CPU.

    python -m benchmarks.gpu_check [--model PATH] [--tokens 128]

With a GPU build of llama-cpp-python (CUDA, Vulkan or Metal) on a machine with a GPU: the
devices found (free and total memory), then the model (default: the Gemma 3 270M package
model) loaded through Hearth's engine with automatic GPU layers, what the fitting decided,
and generation and prompt tokens/s against the same model on the CPU. On a CPU-only build it
says so and exits 0: there is nothing to check.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    import llama_cpp

    from desktop.engine.client import EngineClient
    from desktop.engine.devices import list_devices
    from desktop.engine.protocol import AUTO_GPU_LAYERS, ChatMessage, GenerationStats, LoadOptions, Sampling
    from desktop.units import format_bytes

    devices = list_devices()
    for d in devices:
        print(
            f"device: {d.backend} {d.name} ({d.type}) {format_bytes(d.memory_free_bytes)} free "
            f"of {format_bytes(d.memory_total_bytes)}"
        )
    if not llama_cpp.llama_supports_gpu_offload():
        print("This llama-cpp-python build runs on the CPU only: no GPU path to check.")
        print("Install a GPU build (see the README, GPU builds) on a machine with a GPU and run this again.")
        return 0
    if not any(d.type in ("gpu", "igpu") for d in devices):
        print("A GPU build, but no GPU device was found (driver missing?): nothing to check.")
        return 0

    from benchmarks.real_model import gemma_model

    model = args.model or gemma_model(Path(tempfile.mkdtemp()))
    prompt = "Write a short story about a lighthouse keeper who finds a message in a bottle. " * 8

    def run(layers: int) -> tuple[int, str | None, GenerationStats]:
        client = EngineClient()
        try:
            client.load(LoadOptions(str(model), n_ctx=4096, n_threads=args.threads, n_gpu_layers=layers))
            loaded = client.wait_loaded()
            request = client.chat(
                [ChatMessage("user", prompt)],
                Sampling(max_tokens=args.tokens, temperature=0.0, seed=1),
                mode="complete",
            )
            stats = [e for e in client.stream(request) if isinstance(e, GenerationStats)][-1]
            return loaded.gpu_layers, loaded.load_note, stats
        finally:
            client.shutdown()

    gpu_layers, note, gpu = run(AUTO_GPU_LAYERS)
    _cpu_layers, _, cpu = run(0)
    print(f"automatic fitting: {gpu_layers} layers on the GPU. {note or ''}")
    print(f"{'':6}{'prompt t/s':>12}{'gen t/s':>10}")
    print(f"{'GPU':6}{gpu.prompt_tps:12.1f}{gpu.gen_tps:10.1f}")
    print(f"{'CPU':6}{cpu.prompt_tps:12.1f}{cpu.gen_tps:10.1f}")
    speedup_pp, speedup_tg = gpu.prompt_tps / cpu.prompt_tps, gpu.gen_tps / cpu.gen_tps
    print(f"GPU / CPU: prompt {speedup_pp:.2f}x, generation {speedup_tg:.2f}x")
    return 0 if gpu_layers > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
