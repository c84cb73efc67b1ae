"""The first minutes: which model to offer a person with an empty library, why, whether the
disk can take it, and what other apps' models were found. Qt-free; the welcome page shows it."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from desktop.gguf.speed import MachineSpeed, rule_of_thumb
from desktop.hub.starters import Starter, starters_for
from desktop.library.scan import LocalModel
from desktop.units import count_of, format_bytes

# Room kept free beyond the download itself: a full disk breaks more than Hearth.
DISK_MARGIN_BYTES = 1_000_000_000

SOURCE_FOLDERS = {
    "lmstudio": "LM Studio's folder",
    "ollama": "Ollama's models",
    "gpt4all": "GPT4All's folder",
    "hf-cache": "the Hugging Face cache",
    "folder": "your folders",
}


@dataclass(frozen=True)
class FirstModel:
    starter: Starter
    title: str  # what a person calls it: "Gemma 3 1B It" from the repository's name
    facts: str  # quant, size, licence
    reason: str  # why this one, for this computer
    disk_free: int
    enough_disk: bool


FIRST_RUN_TPS = 10.0  # tokens/s: twice careful reading speed


def first_model(
    models_dir: Path,
    available_bytes: int,
    cores: int,
    gpu_bytes: int = 0,
    machine: MachineSpeed | None = None,
) -> FirstModel | None:
    """The model to offer: instruction-tuned, with a chat template, the most capable predicted
    to write at least 10 tokens a second here (else the first recommendation); None when nothing
    fits. ``machine``:
    this computer's measured speed; without it, the rule of thumb for ``cores``."""
    speed_here = machine or rule_of_thumb(cores, gpu_bytes)
    ranked = starters_for(available_bytes, cores=cores, gpu_bytes=gpu_bytes, machine=speed_here)
    if not ranked:
        return None
    # The first model must be quick, not just usable: a margin over reading speed for the
    # prediction's error. The most capable of those; else the list's first.
    quick = [s for s, fit in ranked if fit == "fits" and s.predicted_tg_tps(speed_here) >= FIRST_RUN_TPS]
    starter = max(quick, key=lambda s: (s.parameters, s.size_bytes)) if quick else ranked[0][0]
    speed = starter.predicted_tg_tps(speed_here)
    where = "the GPU" if gpu_bytes else f"{count_of(cores, 'core')}"
    reason = (
        f"Chosen for this computer: it should write about {speed:.0f} tokens a second on {where} "
        f"and needs {format_bytes(starter.size_bytes)} of your {format_bytes(available_bytes)} of memory. "
        f"{starter.note}."
    )
    free = _free_space(models_dir)
    return FirstModel(
        starter=starter,
        title=_title(starter.repo_id),
        facts=f"{starter.quant} · {format_bytes(starter.size_bytes)} · licence: {starter.licence}",
        reason=reason,
        disk_free=free,
        enough_disk=free >= starter.size_bytes + DISK_MARGIN_BYTES,
    )


def disk_words(model: FirstModel) -> str:
    """Why the download can't start, when the disk is short."""
    return (
        f"Not enough free disk space: it needs {format_bytes(model.starter.size_bytes)} and "
        f"{format_bytes(model.disk_free)} is free. Free some space, or use a model you already have."
    )


def found_elsewhere(models: list[LocalModel]) -> str | None:
    """ "3 models found in LM Studio's folder", for the models other apps keep; None if none."""
    counts = Counter(m.source for m in models if m.ok and m.source != "hearth")
    if not counts:
        return None
    parts = [f"{count_of(n, 'model')} in {SOURCE_FOLDERS.get(s, s)}" for s, n in counts.most_common()]
    return "Found on this computer: " + ", ".join(parts) + "."


def wants_welcome(models: list[LocalModel], has_chats: bool) -> bool:
    """An empty start: no model of Hearth's own and no conversation yet."""
    return not has_chats and not any(m.ok and m.source == "hearth" for m in models)


def _title(repo_id: str) -> str:
    name = repo_id.split("/")[-1].removesuffix("-GGUF").removesuffix("-gguf")
    return name.replace("_", " ").replace("-", " ")


def _free_space(folder: Path) -> int:
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return 0
