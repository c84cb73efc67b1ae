"""The text quants are scored on when the person gives none: the reference model's own writing.

Written offline, on prompts written for Hearth (below), with a fixed seed: the same
reference on the same llama.cpp build writes the same text, which is kept in the cache so
the next evaluation of that reference starts at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from desktop.engine.client import EngineClient
from desktop.engine.protocol import ChatMessage, GenerationStats, LoadOptions, Sampling
from desktop.paths import hearth_paths

PROMPTS = (
    "Explain to a new gardener how to grow tomatoes on a balcony, from seed to harvest.",
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "Describe how a bicycle gear system works and how to choose the right gear on a hill.",
    "What are the main causes of the seasons on Earth? Explain it to a curious twelve-year-old.",
    "Write a friendly letter to a neighbour asking to borrow a ladder for the weekend.",
    "Compare baking bread with yeast and with a sourdough starter: time, taste and effort.",
    "Give step-by-step advice for preparing for a job interview at a small library.",
    "Explain what a binary search is and walk through an example with a list of ten numbers.",
    "Describe a walk through an old market town on a rainy autumn morning.",
    "What should someone think about before adopting a dog? Cover time, money and space.",
    "Summarise how vaccines train the immune system, in plain words.",
    "Write instructions for repairing a slow puncture in a bicycle inner tube.",
)
SEED = 20261128
REPLY_TOKENS = 400


def cache_file(reference: Path, tokens_wanted: int) -> Path:
    """Named by what the file holds (its size and first 4 MiB: the header and the first tensors),
    so a copy or a rebuild of the same model finds the text again."""
    with reference.open("rb") as data:
        head = hashlib.sha256(data.read(4 * 1024 * 1024)).hexdigest()
    key = f"{reference.stat().st_size}|{head}|{tokens_wanted}|{SEED}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return hearth_paths().cache_dir / "eval-texts" / f"{reference.stem}-{digest}.txt"


def reference_text(
    reference: Path, tokens_wanted: int, progress: Callable[[str, float], None] | None = None
) -> str:
    """At least ``tokens_wanted`` tokens of the reference's replies to ``PROMPTS`` (cached once made)."""
    file = cache_file(reference, tokens_wanted)
    if file.is_file():
        return file.read_text(encoding="utf-8")
    report = progress or (lambda _stage, _fraction: None)
    client = EngineClient()
    replies: list[str] = []
    made = 0
    try:
        report(f"Loading {reference.name}", 0.0)
        client.load(LoadOptions(str(reference)))
        client.wait_loaded()
        for n, prompt in enumerate(PROMPTS * 4):  # round again if the replies are short
            if made >= tokens_wanted:
                break
            sampling = Sampling(max_tokens=REPLY_TOKENS, seed=SEED + n)
            request = client.chat([ChatMessage("user", prompt)], sampling)
            for event in client.stream(request):
                if isinstance(event, GenerationStats):
                    replies.append(event.text.strip())
                    made += event.completion_tokens
            report(f"Writing the test text with {reference.name}", min(1.0, made / tokens_wanted))
    finally:
        client.shutdown()
    text = "\n\n".join(r for r in replies if r)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
    return text
