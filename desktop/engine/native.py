"""Generation over llama.cpp's low-level API: the prompt in n_batch pieces, llama.cpp's own sampler chain.

``Llama.generate`` samples through Python objects around each step and evaluates the prompt
in pieces it copies token by token; on a 2-core laptop with Gemma 3's 262,144-token
vocabulary that alone costs about a tenth of the prompt and generation speed
(``benchmarks/llama_bench.py`` measures it against llama.cpp's ``llama-bench``). These
functions drive the same ``llama_cpp.Llama`` object directly and keep its ``input_ids`` and
``n_tokens`` as ``Llama.eval`` does, so prefix reuse across turns goes on working.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from desktop.engine.protocol import Sampling
from desktop.engine.tool_calls import ToolGrammar

PENALTY_LAST_N = 64  # as llama-cpp-python's Llama (last_n_tokens_size)


class DecodeError(RuntimeError):
    """llama_decode failed (no room left in the KV cache, or a backend error)."""


class Cancelled(Exception):
    """The prompt was abandoned between two of its pieces."""


class SamplerChain:
    """llama.cpp's sampler chain for Hearth's sampling fields; ``close`` frees it.

    The samplers and their order are those ``Llama.generate`` builds (its typical_p of 1.0
    does nothing and is left out), with one saving: a repeat penalty above 1 only lowers the
    tokens it finds, so the top ``top_k + PENALTY_LAST_N`` candidates hold every token that can
    still be chosen (so do positive frequency and presence penalties); cut to those first, the
    penalty looks at about a hundred tokens instead of the whole vocabulary, and the same token
    comes out.
    """

    def __init__(self, llm: Any, sampling: Sampling, tool_grammar: ToolGrammar | None = None) -> None:
        import llama_cpp as ll

        self._ll = ll
        self.handle = ll.llama_sampler_chain_init(ll.llama_sampler_chain_default_params())
        seed = ll.LLAMA_DEFAULT_SEED if sampling.seed is None else sampling.seed & 0xFFFFFFFF
        repeat, frequency, presence = (
            sampling.repeat_penalty,
            sampling.frequency_penalty,
            sampling.presence_penalty,
        )
        self.penalised = repeat != 1.0 or frequency != 0.0 or presence != 0.0
        # A JSON schema's grammar or the tool calls', kept out of the chain: see ``sample``.
        self.grammar: Any = None
        if sampling.json_schema and tool_grammar is not None:
            raise ValueError("a reply is held either to a JSON schema or to tool calls, not both")
        if sampling.json_schema:
            from desktop.engine.json_schema import grammar_for

            self.grammar = _grammar(ll, llm, grammar_for(sampling.json_schema), None)
            if not self.grammar:
                raise ValueError("llama.cpp could not parse the grammar made from the JSON schema")
        elif tool_grammar is not None:
            self.grammar = _grammar(ll, llm, tool_grammar.gbnf, tool_grammar.trigger)
            if not self.grammar:
                raise ValueError("llama.cpp could not parse the grammar made from the tools")
        if self.grammar is not None:
            self._candidates = _Candidates(int(llm.n_vocab()))
        greedy = sampling.temperature == 0
        keep = 1 if greedy else sampling.top_k if sampling.temperature > 0 else 0
        if self.penalised:
            if repeat >= 1.0 and frequency >= 0.0 and presence >= 0.0 and keep > 0:
                self._add(ll.llama_sampler_init_top_k(keep + PENALTY_LAST_N))
            n_vocab = int(llm.n_vocab())  # llama-cpp-python 0.3.36's llama.h still takes it
            self._add(ll.llama_sampler_init_penalties(n_vocab, PENALTY_LAST_N, repeat, frequency, presence))
        if greedy:
            self._add(ll.llama_sampler_init_greedy())
        elif sampling.temperature < 0:
            self._add(ll.llama_sampler_init_dist(seed))
        else:
            if sampling.top_k > 0:
                self._add(ll.llama_sampler_init_top_k(sampling.top_k))
            self._add(ll.llama_sampler_init_top_p(sampling.top_p, 1))
            self._add(ll.llama_sampler_init_min_p(sampling.min_p, 1))
            self._add(ll.llama_sampler_init_temp(sampling.temperature))
            self._add(ll.llama_sampler_init_dist(seed))

    def _add(self, sampler: Any) -> None:
        self._ll.llama_sampler_chain_add(self.handle, sampler)

    def remember(self, tokens: Sequence[int]) -> None:
        """The prompt's last tokens count for the repeat penalty, as the reply's own do (a
        grammar is outside the chain: it sees the reply's tokens only)."""
        if self.penalised:
            for token in tokens[-PENALTY_LAST_N:]:
                self._ll.llama_sampler_accept(self.handle, token)

    def sample(self, ctx: Any) -> int:
        """The next token, accepted by the chain (and the grammar, under one).

        Under a grammar, as llama-server samples: the chain picks from the whole vocabulary, and
        only that token is checked against the grammar; only when the grammar refuses it is the
        grammar applied to every token and the chain asked again. Checking every token first
        costs a grammar walk per vocabulary entry per token, several times the reply's time."""
        ll = self._ll
        if self.grammar is None:
            return int(ll.llama_sampler_sample(self.handle, ctx, -1))
        candidates = self._candidates
        candidates.load(ll.llama_get_logits_ith(ctx, -1))
        ll.llama_sampler_apply(self.handle, candidates.pointer)
        token = candidates.chosen()
        if not candidates.allowed(ll, self.grammar, token):
            candidates.load(ll.llama_get_logits_ith(ctx, -1))
            ll.llama_sampler_apply(self.grammar, candidates.pointer)
            ll.llama_sampler_apply(self.handle, candidates.pointer)
            token = candidates.chosen()
        ll.llama_sampler_accept(self.grammar, token)
        ll.llama_sampler_accept(self.handle, token)
        return token

    def close(self) -> None:
        if self.handle is not None:
            self._ll.llama_sampler_free(self.handle)
            self.handle = None
        if self.grammar is not None:
            self._ll.llama_sampler_free(self.grammar)
            self.grammar = None

    def __enter__(self) -> SamplerChain:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _grammar(ll: Any, llm: Any, gbnf: str, trigger: str | None) -> Any:
    """A grammar sampler; with a trigger (a regular expression), a lazy one: it lets every token
    through until the reply's text matches, then holds the rest from the match on."""
    vocab = ll.llama_model_get_vocab(llm.model)
    if trigger is None:
        return ll.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
    patterns = (ctypes.c_char_p * 1)(trigger.encode())
    return ll.llama_sampler_init_grammar_lazy_patterns(vocab, gbnf.encode(), b"root", patterns, 1, None, 0)


def cached_prefix(llm: Any, tokens: Sequence[int]) -> int:
    """How many of ``tokens`` the KV cache already holds, from the start."""
    import numpy as np

    limit = min(int(llm.n_tokens), len(tokens))
    if limit == 0:
        return 0
    held = llm.input_ids[:limit]
    differ = np.flatnonzero(held != np.asarray(tokens[:limit], dtype=held.dtype))
    return int(differ[0]) if differ.size else limit


def decode_prompt(llm: Any, tokens: Sequence[int], cancelled: Callable[[], bool] | None = None) -> int:
    """Decodes what the KV cache lacks of ``tokens`` in n_batch pieces; returns the tokens reused.

    The last token is decoded again even when the cache holds it: its logits are what the
    first reply token is sampled from. Raises ``Cancelled`` between pieces when asked to.
    """
    import llama_cpp as ll

    if not tokens:
        raise DecodeError("The prompt is empty: there is nothing to continue.")
    ctx = llm.ctx
    cached = min(cached_prefix(llm, tokens), len(tokens) - 1)
    memory = ll.llama_get_memory(ctx)
    if not ll.llama_memory_seq_rm(memory, -1, cached, -1):
        # Some caches (sliding-window layers) cannot drop a tail: start again.
        ll.llama_memory_clear(memory, True)
        cached = 0
    llm.n_tokens = cached
    for start in range(cached, len(tokens), llm.n_batch):
        if cancelled is not None and start > cached and cancelled():
            raise Cancelled
        piece = tokens[start : start + llm.n_batch]
        array = (ll.llama_token * len(piece))(*piece)
        status = ll.llama_decode(ctx, ll.llama_batch_get_one(array, len(piece)))
        if status != 0:
            raise DecodeError(f"llama_decode returned {status} on the prompt")
        llm.input_ids[start : start + len(piece)] = piece
        llm.n_tokens = start + len(piece)
    llm._requires_eval = False  # what Llama.eval would leave: nothing pending
    return cached


class _Candidates:
    """The vocabulary's logits as llama.cpp's token data array, for sampling step by step."""

    def __init__(self, n_vocab: int) -> None:
        import llama_cpp as ll
        import numpy as np

        self._n_vocab = n_vocab
        self._data = np.zeros(
            n_vocab, dtype=np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)
        )
        self._ids = np.arange(n_vocab, dtype=np.intc)
        self._array = ll.llama_token_data_array(
            data=self._data.ctypes.data_as(ll.llama_token_data_p), size=n_vocab, selected=-1, sorted=False
        )
        self.pointer = ctypes.byref(self._array)
        self._one = (ll.llama_token_data * 1)()
        self._one_array = ll.llama_token_data_array(data=self._one, size=1, selected=-1, sorted=False)

    def load(self, logits: Any) -> None:
        import numpy as np

        self._data["id"] = self._ids
        self._data["logit"] = np.ctypeslib.as_array(logits, shape=(self._n_vocab,))
        self._data["p"] = 0.0
        self._array.size, self._array.selected, self._array.sorted = self._n_vocab, -1, False

    def chosen(self) -> int:
        # Through the array's own pointer: a sampler may have moved its data.
        return int(self._array.data[self._array.selected].id)

    def allowed(self, ll: Any, grammar: Any, token: int) -> bool:
        """Whether the grammar lets ``token`` come next (it sets a refused one's logit to -inf)."""
        entry: Any = self._one[0]
        entry.id, entry.logit, entry.p = token, 1.0, 0.0
        self._one_array.size, self._one_array.selected, self._one_array.sorted = 1, -1, False
        ll.llama_sampler_apply(grammar, ctypes.byref(self._one_array))
        return bool(entry.logit != float("-inf"))


def generate(llm: Any, sampler: SamplerChain) -> Iterator[int]:
    """One sampled token after another, after ``decode_prompt``.

    Each token is yielded before it is decoded, as ``Llama.generate`` does: the caller stops at
    end of generation or a stop string, and the last token never costs a decode. Ends when the
    context is full.
    """
    import llama_cpp as ll

    ctx = llm.ctx
    n_ctx = int(llm.n_ctx())
    one = (ll.llama_token * 1)()
    batch = ll.llama_batch_get_one(one, 1)
    while True:
        token = sampler.sample(ctx)
        yield token
        if llm.n_tokens >= n_ctx:
            return
        one[0] = token
        status = ll.llama_decode(ctx, batch)
        if status != 0:
            raise DecodeError(f"llama_decode returned {status}")
        llm.input_ids[llm.n_tokens] = token
        llm.n_tokens += 1


class Pieces:
    """Each token's text (special tokens as nothing), from ``llama_token_to_piece`` into one buffer."""

    def __init__(self, llm: Any, size: int = 64, *, special: bool = False) -> None:
        import llama_cpp as ll

        self._special = special  # control tokens as their text (a family's tool-call marker)
        self._to_piece = ll.llama_token_to_piece
        self._vocab = ll.llama_model_get_vocab(llm.model)
        self._size = size
        self._buffer = ctypes.create_string_buffer(self._size)

    def __call__(self, token: int) -> bytes:
        n = self._to_piece(self._vocab, token, self._buffer, self._size, 0, self._special)
        if n < 0:  # longer than the buffer: grow it once for this and later tokens
            self._size = -n
            self._buffer = ctypes.create_string_buffer(self._size)
            n = self._to_piece(self._vocab, token, self._buffer, self._size, 0, self._special)
        return self._buffer.raw[:n]
