"""What a speed or quality run keeps in the comparison history, and how its figures read: one
place for the window's Compare tools and ``hearth bench``/``hearth eval``."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

from desktop.compare.results import CompareStore, machine_info
from desktop.library.scan import LocalModel

# The quality figures as both front ends show them (the window's table, the CLI's columns).
QUALITY_TEXT: dict[str, Callable[[float], str]] = {
    "ppl": lambda v: f"{v:.4f}",
    "kld_mean": lambda v: f"{v:.5f}",
    "top1_agreement": lambda v: f"{100 * v:.2f}%",
    "delta_p_mean": lambda v: f"{100 * v:+.3f}%",
}


def runs_text(n: int) -> str:
    return "1 run" if n == 1 else f"{n} runs"


def spread_text(values: Sequence[float], digits: int = 1) -> str:
    """A speed figure over its repetitions: the median ± their standard deviation. One run has
    no spread, so it reads as the figure alone (never "± 0.0"); none reads as "—"."""
    if not values:
        return "—"
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.{digits}f}"
    return f"{median:.{digits}f} ± {statistics.stdev(values):.{digits}f}"


# Which way is better for each quality figure, as both front ends label it.
QUALITY_BETTER: dict[str, str] = {
    "ppl": "lower is better",
    "kld_mean": "lower is better",
    "top1_agreement": "higher is better",
    "delta_p_mean": "nearer 0 is better",
}
QUALITY_MEANING: dict[str, str] = {
    "ppl": "Perplexity of the text: how surprised the build is by it, on average.",
    "kld_mean": "Mean KL divergence of the build's next-token odds from the reference's.",
    "top1_agreement": "How often the build's most likely next token is the reference's.",
    "delta_p_mean": "Mean change in the probability of the text's own next token against the reference.",
}


_ENGINE_FACTS = ("model", "build_info", "devices")  # kept once for the run, not in each result


def bench_metrics(result: dict[str, Any]) -> dict[str, Any]:
    """A bench task's result as kept for its model (the machine's facts go with the run)."""
    return {k: v for k, v in result.items() if k not in _ENGINE_FACTS}


def quality_metrics(scored: dict[str, Any]) -> dict[str, Any]:
    """One pass of an eval task (a model's scores against the reference) as kept for it."""
    return {**scored["scores"], "seconds": scored["seconds"]}


def reference_summary(name: str, scores: dict[str, Any]) -> str:
    return f"{name}: perplexity {scores['ppl']:.4f} over {scores['tokens_scored']:,} tokens"


def keep_run(
    store: CompareStore,
    kind: str,
    settings: dict[str, Any],
    measured: Sequence[tuple[LocalModel, dict[str, Any]]],
    reported: dict[str, Any],
) -> int:
    """Keeps a run with the facts its figures depend on (this machine, the llama.cpp build and
    devices the engine reported). Raises StorageError when the history can't take it."""
    return store.add_run(
        kind,
        machine_info(reported),
        settings,
        [(str(m.path), m.name, m.quant, m.size_bytes, metrics) for m, metrics in measured],
    )
