"""Speed of one loaded model, measured as llama.cpp's ``llama-bench`` measures it, in the engine worker.

pp: a prompt of ``n_prompt`` tokens decoded into an empty cache; tg: ``n_gen`` single-token
decodes from BOS (the same token again, no sampling, as tg128 does). Time to first token is
what a person waits for the first word of a reply to a short chat message: the templated
prompt decoded and one token sampled with Hearth's default sampling.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from desktop.engine import native
from desktop.engine.protocol import Sampling

N_PROMPT = 512
N_GEN = 128
FILLER = (
    "Hearth measures how fast a model reads and writes on this machine, so people can choose "
    "between builds of a model with numbers of their own. "
)


@dataclass(frozen=True)
class SpeedResult:
    model: str
    pp_tps: list[float]  # one a repetition
    tg_tps: list[float]
    ttft_ms: list[float]
    load_ms: float
    peak_rss_bytes: int  # of the worker process that ran the model
    n_prompt: int = N_PROMPT
    n_gen: int = N_GEN

    def median(self, name: str) -> float:
        values: list[float] = getattr(self, name)
        return float(statistics.median(values)) if values else 0.0

    def spread(self, name: str) -> float:
        """The standard deviation over the repetitions (0 with fewer than two)."""
        values: list[float] = getattr(self, name)
        return float(statistics.stdev(values)) if len(values) > 1 else 0.0


def prompt_tokens(llm: Any, n: int) -> list[int]:
    text = FILLER
    tokens: list[int] = llm.tokenize(text.encode(), add_bos=True)
    while len(tokens) < n:
        text += FILLER
        tokens = llm.tokenize(text.encode(), add_bos=True)
    return tokens[:n]


def clear(llm: Any) -> None:
    """An empty KV cache, as llama-bench leaves it between tests (cells freed, not zeroed)."""
    import llama_cpp as ll

    ll.llama_memory_clear(ll.llama_get_memory(llm.ctx), False)
    llm.n_tokens = 0


def prompt_speed(llm: Any, tokens: list[int]) -> float:
    import llama_cpp as ll

    clear(llm)
    start = time.perf_counter()
    native.decode_prompt(llm, tokens)
    ll.llama_synchronize(llm.ctx)
    return len(tokens) / (time.perf_counter() - start)


def generation_speed(llm: Any, n_gen: int) -> float:
    import llama_cpp as ll

    clear(llm)
    one = (ll.llama_token * 1)(llm.token_bos())
    batch = ll.llama_batch_get_one(one, 1)
    start = time.perf_counter()
    for _ in range(n_gen):
        if ll.llama_decode(llm.ctx, batch) != 0:
            raise native.DecodeError("llama_decode failed while measuring generation")
        ll.llama_synchronize(llm.ctx)
    clear(llm)
    return n_gen / (time.perf_counter() - start)


def first_token_ms(llm: Any, tokens: list[int]) -> float:
    import llama_cpp as ll

    clear(llm)
    start = time.perf_counter()
    with native.SamplerChain(llm, Sampling(seed=1)) as sampler:
        native.decode_prompt(llm, tokens)
        ll.llama_sampler_sample(sampler.handle, llm.ctx, -1)
    return (time.perf_counter() - start) * 1000
