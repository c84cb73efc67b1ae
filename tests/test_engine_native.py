"""The worker's generation loop over llama.cpp's low-level API, on a real tiny GGUF in llama.cpp."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.engine import native
from desktop.engine.protocol import Sampling


@pytest.fixture
def llm(tiny_model: Path) -> Iterator[Any]:
    from llama_cpp import Llama

    model = Llama(str(tiny_model), n_ctx=256, n_batch=32, n_ubatch=32, n_threads=1, verbose=False)
    yield model
    model.close()


def _prompt(llm: Any, words: int = 12) -> list[int]:
    tokens: list[int] = llm.tokenize((" ".join(["the cat was on the mat"] * words)).encode(), add_bos=True)
    return tokens


def _run(llm: Any, tokens: list[int], sampling: Sampling, n: int) -> list[int]:
    out = []
    with native.SamplerChain(llm, sampling) as sampler:
        native.decode_prompt(llm, tokens)
        sampler.remember(tokens)
        for token in native.generate(llm, sampler):
            out.append(token)
            if len(out) == n:
                break
    return out


def test_greedy_output_matches_llama_cpp_pythons_own_generate(llm: Any) -> None:
    tokens = _prompt(llm, 3)
    ours = _run(llm, tokens, Sampling(temperature=0.0), 12)
    llm.reset()
    theirs = []
    for token in llm.generate(tokens, temp=0.0, top_k=1, reset=True):
        theirs.append(token)
        if len(theirs) == 12:
            break
    assert ours == theirs


def test_a_seed_repeats_a_reply_and_no_seed_varies(llm: Any) -> None:
    tokens = _prompt(llm, 2)
    warm = Sampling(temperature=1.5, top_k=0, top_p=1.0, min_p=0.0, seed=7)
    first = _run(llm, tokens, warm, 24)
    assert _run(llm, tokens, warm, 24) == first
    unseeded = {
        tuple(_run(llm, tokens, Sampling(temperature=1.5, top_k=0, top_p=1.0, min_p=0.0), 24))
        for _ in range(3)
    }
    assert len(unseeded) > 1


def test_a_repeat_penalty_changes_what_is_chosen(llm: Any) -> None:
    tokens = _prompt(llm, 2)
    plain = _run(llm, tokens, Sampling(temperature=0.0), 40)
    penalised = _run(llm, tokens, Sampling(temperature=0.0, repeat_penalty=1.8), 40)
    assert penalised != plain
    # the penalty has made the reply repeat itself less
    assert len(set(penalised)) >= len(set(plain))


def test_the_prompt_is_decoded_in_pieces_and_a_held_prefix_is_reused(llm: Any) -> None:
    tokens = _prompt(llm, 12)
    assert len(tokens) > 3 * llm.n_batch  # several pieces
    assert native.decode_prompt(llm, tokens) == 0
    assert llm.n_tokens == len(tokens) and list(llm.input_ids[: len(tokens)]) == tokens
    longer = tokens + llm.tokenize(b" and the dog", add_bos=False)
    assert native.decode_prompt(llm, longer) == len(tokens)
    assert native.cached_prefix(llm, longer) == len(longer)
    # the same prompt again: all but its last token reused (the first reply token is sampled from it)
    assert native.decode_prompt(llm, longer) == len(longer) - 1
    # a prompt that differs early: decoded from where it differs
    changed = [*longer[:5], longer[5] + 1, *longer[6:]]
    assert native.decode_prompt(llm, changed) == 5


def test_a_long_prompt_can_be_cancelled_between_pieces(llm: Any) -> None:
    tokens = _prompt(llm, 12)
    asked = []

    def cancelled() -> bool:
        asked.append(llm.n_tokens)
        return len(asked) >= 2

    with pytest.raises(native.Cancelled):
        native.decode_prompt(llm, tokens, cancelled)
    assert llm.n_tokens == 2 * llm.n_batch  # two pieces decoded, the bookkeeping matches them
    assert native.cached_prefix(llm, tokens) == 2 * llm.n_batch


def test_an_empty_prompt_and_a_full_context_are_clear_errors(llm: Any) -> None:
    with pytest.raises(native.DecodeError, match="empty"):
        native.decode_prompt(llm, [])
    # generation ends when the context is full, without a failing decode
    tokens = _prompt(llm, 10)
    produced = _run(llm, tokens, Sampling(temperature=0.0), 10_000)
    assert len(tokens) + len(produced) == llm.n_ctx() + 1


def test_token_text_of_every_length(llm: Any) -> None:
    for size in (64, 1):  # 1: the buffer grows for every piece longer than it
        pieces = native.Pieces(llm, size)
        for token in range(llm.n_vocab()):
            assert pieces(token) == llm.detokenize([token], special=False)
