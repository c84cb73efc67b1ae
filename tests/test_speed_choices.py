"""Choosing by predicted speed: the starter list's order and a repo's *Recommended* quant, for a
2-core laptop, an 8-core desktop and a desktop with an 8 GB GPU."""

from __future__ import annotations

from pathlib import Path

from desktop.gguf.fit import Fit
from desktop.gguf.speed import MachineSpeed, rule_of_thumb, speed_verdict
from desktop.hub.files import HubFile
from desktop.hub.quants import QuantReport, group_quants, recommended_quant
from desktop.hub.starters import Starter, starters_for

GB = 1_000_000_000
LAPTOP = rule_of_thumb(2)  # 10 GB/s
DESKTOP = rule_of_thumb(8)  # 40 GB/s
GPU_8GB = rule_of_thumb(8, gpu_free_bytes=8 * GB)  # and 200 GB/s for what the card holds


def _order_is_honest(ranked: list[tuple[Starter, Fit]], machine: MachineSpeed) -> None:
    fits = [s for s, fit in ranked if fit == "fits"]
    verdicts = [speed_verdict(s.predicted_tg_tps(machine), True) for s in fits]
    usable = [v != "slow" for v in verdicts]
    assert usable == sorted(usable, reverse=True)  # never a slow one ahead of a usable one
    first_usable = [s for s, ok in zip(fits, usable, strict=True) if ok]
    assert [s.parameters for s in first_usable] == sorted((s.parameters for s in first_usable), reverse=True)
    slow = [s.predicted_tg_tps(machine) for s, ok in zip(fits, usable, strict=True) if not ok]
    assert slow == sorted(slow, reverse=True)  # the slow ones, the quickest first


def test_the_starters_put_the_most_capable_usable_model_first() -> None:
    laptop = starters_for(24 * GB, machine=LAPTOP)
    _order_is_honest(laptop, LAPTOP)
    first = laptop[0][0]
    # On 10 GB/s a 1.8 GB 3B model writes some 5.5 tokens/s: usable, and the most capable that is.
    assert (
        first.repo_id == "ggml-org/SmolLM3-3B-GGUF"
        and speed_verdict(first.predicted_tg_tps(LAPTOP), True) == "usable"
    )
    assert laptop[-1][0].repo_id == "Qwen/Qwen3-14B-GGUF"  # 9 GB at 10 GB/s: a token a second, last

    desktop = starters_for(32 * GB, machine=DESKTOP)
    _order_is_honest(desktop, DESKTOP)
    # 7.5 GB at 40 GB/s: 5.3 tokens/s, usable; the 14B at 4.4 is not.
    assert desktop[0][0].repo_id == "bartowski/Mistral-Nemo-Instruct-2407-GGUF"
    assert desktop.index(next(r for r in desktop if r[0].repo_id == "Qwen/Qwen3-14B-GGUF")) > 5

    card = starters_for(40 * GB, machine=GPU_8GB)
    _order_is_honest(card, GPU_8GB)
    # 9 GB does not fit in 8 GB of video memory: most of it on the GPU is still quick enough.
    assert card[0][0].repo_id == "Qwen/Qwen3-14B-GGUF"
    assert starters_for(40 * GB, cores=8, gpu_bytes=24 * GB)[0][0].repo_id == "Qwen/Qwen3-14B-GGUF"


def _report(parameters: int, sizes: dict[str, float], available: int) -> QuantReport:
    files = [HubFile(f"model-{q}.gguf", int(size * GB), None, q) for q, size in sizes.items()]
    return QuantReport("o/m", None, parameters, None, group_quants(files), available)


# Llama 3.2 3B's and Qwen3 8B's builds, as bartowski publishes them.
LLAMA_3B = {
    "Q2_K": 1.36,
    "Q3_K_M": 1.69,
    "Q4_K_M": 2.02,
    "Q5_K_M": 2.32,
    "Q6_K": 2.64,
    "Q8_0": 3.42,
    "F16": 6.43,
}
QWEN_8B = {
    "Q2_K": 3.28,
    "Q3_K_M": 4.12,
    "Q4_K_M": 5.03,
    "Q5_K_M": 5.85,
    "Q6_K": 6.73,
    "Q8_0": 8.71,
    "F16": 16.39,
}


def _recommended(
    sizes: dict[str, float], parameters: int, available: int, machine: MachineSpeed
) -> str | None:
    choice = recommended_quant(_report(parameters, sizes, available), machine)
    return choice.quant if choice else None


def test_the_recommended_quant_is_the_best_quality_usable_here() -> None:
    assert _recommended(LLAMA_3B, 3_210_000_000, 16 * GB, LAPTOP) == "Q3_K_M"
    assert _recommended(QWEN_8B, 8_190_000_000, 16 * GB, LAPTOP) is None  # every build slow there
    assert _recommended(LLAMA_3B, 3_210_000_000, 32 * GB, DESKTOP) == "F16"
    assert _recommended(QWEN_8B, 8_190_000_000, 32 * GB, DESKTOP) == "Q6_K"
    assert _recommended(QWEN_8B, 8_190_000_000, 40 * GB, GPU_8GB) == "Q8_0"
    # F16 on a CPU-only desktop fits, but is slow: shown so, never recommended.
    report = _report(
        8_190_000_000,
        QWEN_8B,
        32 * GB,
    )
    f16 = next(c for c in report.choices if c.quant == "F16")
    assert (
        report.fit_for(f16) == "fits" and speed_verdict(report.predicted_tg_tps(f16, DESKTOP), True) == "slow"
    )
    assert report.bits_per_weight(f16) == round(16.39 * GB * 8 / 8_190_000_000, 2)
    # Nothing fits: nothing recommended.
    assert _recommended(QWEN_8B, 8_190_000_000, 2 * GB, GPU_8GB) is None


def test_the_first_run_offers_the_most_capable_quick_model() -> None:
    """The welcome page's one model: predicted at 10 tokens/s or more (a margin over reading
    speed for the prediction's error), the most capable of those."""
    from desktop.app.first_run import FIRST_RUN_TPS, first_model

    laptop = first_model(Path("/"), 24 * GB, 2, machine=LAPTOP)
    assert laptop is not None and laptop.starter.predicted_tg_tps(LAPTOP) >= FIRST_RUN_TPS
    assert laptop.starter.parameters < 3_000_000_000  # not the 3B, usable but not quick here
    desktop = first_model(Path("/"), 32 * GB, 8, machine=DESKTOP)
    assert desktop is not None and desktop.starter.parameters > laptop.starter.parameters
