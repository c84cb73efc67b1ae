"""Quality of quantised builds against a reference, run in the engine worker with llama.cpp.

The passes are those of ``llama-perplexity``: the text tokenised once with BOS; chunks of
``n_ctx`` tokens, BOS put first in each; as many chunks decoded at once as ``n_batch`` holds
(one sequence each); the second half of each chunk scored. The reference's pass writes its
packed log-probabilities to a file (``desktop.compare.scores``); each quant's pass reads them
back chunk by chunk. Logits are read straight from llama.cpp's buffer, a batch at a time.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from desktop.compare.scores import Scores, Totals, pack_reference, row_units, scores


class EvalError(Exception):
    """An evaluation that cannot go on, in words fit to show."""


class EvalCancelled(Exception):
    pass


@dataclass(frozen=True)
class EvalPass:
    model_path: str
    scores: Scores
    seconds: float


Progress = Callable[[str, float], None]  # (model path, fraction of its pass done)


@contextmanager
def _loaded(path: str, n_ctx: int, n_batch: int, n_seq: int, threads: int) -> Iterator[tuple[Any, Any]]:
    """A model and a context laid out as llama-perplexity lays them out."""
    import llama_cpp as ll

    model_params = ll.llama_model_default_params()
    model = ll.llama_model_load_from_file(path.encode(), model_params)
    if not model:
        raise EvalError(f"llama.cpp could not load {Path(path).name}.")
    try:
        params = ll.llama_context_default_params()
        params.n_ctx = n_seq * n_ctx
        params.n_batch = n_batch
        params.n_ubatch = min(512, n_batch)
        params.n_seq_max = n_seq
        params.n_threads = threads
        params.n_threads_batch = threads
        params.flash_attn_type = ll.LLAMA_FLASH_ATTN_TYPE_AUTO
        ctx = ll.llama_init_from_model(model, params)
        if not ctx:
            raise EvalError(f"llama.cpp could not make a context for {Path(path).name}.")
        try:
            yield model, ctx
        finally:
            ll.llama_free(ctx)
    finally:
        ll.llama_model_free(model)


def tokenize(model_path: str, text: str) -> tuple[list[int], int]:
    """The text's tokens as llama-perplexity takes them (BOS added, no special tokens), and n_vocab."""
    import llama_cpp as ll

    params = ll.llama_model_default_params()
    params.vocab_only = True
    model = ll.llama_model_load_from_file(model_path.encode(), params)
    if not model:
        raise EvalError(f"llama.cpp could not read the vocabulary of {Path(model_path).name}.")
    try:
        vocab = ll.llama_model_get_vocab(model)
        raw = text.encode("utf-8")
        add_bos = bool(ll.llama_vocab_get_add_bos(vocab))
        size = len(raw) + 16
        out = (ll.llama_token * size)()
        n = ll.llama_tokenize(vocab, raw, len(raw), out, size, add_bos, False)
        if n < 0:
            size = -n
            out = (ll.llama_token * size)()
            n = ll.llama_tokenize(vocab, raw, len(raw), out, size, add_bos, False)
        return list(out[:n]), int(ll.llama_vocab_n_tokens(vocab))
    finally:
        ll.llama_model_free(model)


@dataclass(frozen=True)
class Layout:
    n_ctx: int
    n_batch: int
    n_seq: int
    n_chunk: int

    @classmethod
    def of(cls, n_tokens: int, n_ctx: int, n_batch: int) -> Layout:
        if n_ctx < 16:
            raise EvalError("The evaluation context must be at least 16 tokens.")
        if n_tokens < 2 * n_ctx:
            raise EvalError(
                f"The text is {n_tokens:,} tokens; at least {2 * n_ctx:,} (twice the context) are needed."
            )
        n_seq = max(1, n_batch // n_ctx)
        return cls(n_ctx, min(n_batch, n_seq * n_ctx), n_seq, n_tokens // n_ctx)

    @property
    def first(self) -> int:
        return self.n_ctx // 2

    @property
    def scored_per_chunk(self) -> int:
        return self.n_ctx - 1 - self.first


def run_pass(
    model_path: str,
    tokens: list[int],
    layout: Layout,
    threads: int,
    reference: BinaryIO,
    writing: bool,
    progress: Progress,
    cancelled: Callable[[], bool],
) -> EvalPass:
    """One model's pass: writes the reference's packed rows, or scores against them."""
    import llama_cpp as ll

    start_time = time.perf_counter()
    totals = Totals()
    with _loaded(model_path, layout.n_ctx, layout.n_batch, layout.n_seq, threads) as (model, ctx):
        vocab = ll.llama_model_get_vocab(model)
        n_vocab = int(ll.llama_vocab_n_tokens(vocab))
        units = row_units(n_vocab)
        bos = int(ll.llama_vocab_bos(vocab))
        add_bos = bool(ll.llama_vocab_get_add_bos(vocab))
        batch = ll.llama_batch_init(layout.n_batch, 0, layout.n_seq)
        try:
            memory = ll.llama_get_memory(ctx)
            for first_chunk in range(0, layout.n_chunk, layout.n_seq):
                if cancelled():
                    raise EvalCancelled
                chunks = range(first_chunk, min(first_chunk + layout.n_seq, layout.n_chunk))
                ll.llama_memory_clear(memory, True)
                _decode_chunks(ll, ctx, batch, tokens, layout, chunks, bos if add_bos else None)
                logits = np.ctypeslib.as_array(
                    ctypes.cast(ll.llama_get_logits(ctx), ctypes.POINTER(ctypes.c_float)),
                    shape=(len(chunks) * (layout.n_ctx - layout.first), n_vocab),
                )
                for seq, chunk in enumerate(chunks):
                    rows = logits[seq * (layout.n_ctx - layout.first) :][: layout.scored_per_chunk]
                    start = chunk * layout.n_ctx + layout.first
                    following = np.asarray(tokens[start + 1 : start + 1 + layout.scored_per_chunk], np.int32)
                    if writing:
                        packed, nll = pack_reference(rows, following)
                        packed.tofile(reference)
                        totals.add_perplexity(nll)
                    else:
                        packed = np.fromfile(reference, dtype=np.uint16, count=len(following) * units)
                        if packed.size != len(following) * units:
                            raise EvalError("The reference's log-probabilities ended early.")
                        totals.add_against(rows, packed.reshape(len(following), units), following)
                progress(model_path, (chunks[-1] + 1) / layout.n_chunk)
        finally:
            ll.llama_batch_free(batch)
    return EvalPass(
        model_path, scores(totals, against_reference=not writing), time.perf_counter() - start_time
    )


def _decode_chunks(
    ll: Any, ctx: Any, batch: Any, tokens: list[int], layout: Layout, chunks: range, bos: int | None
) -> None:
    """The chunks as parallel sequences, in batches of n_batch; logits kept for the second halves.

    With n_ctx above n_batch a chunk takes several batches and only the last batch's logits
    would survive, so then each chunk is one sequence and its batches are read as they come:
    this module keeps n_batch at least n_ctx instead (``evaluate`` does).
    """
    n = 0
    for seq, chunk in enumerate(chunks):
        base = chunk * layout.n_ctx
        for pos in range(layout.n_ctx):
            token = tokens[base + pos]
            batch.token[n] = bos if pos == 0 and bos is not None else token
            batch.pos[n] = pos
            batch.n_seq_id[n] = 1
            batch.seq_id[n][0] = seq
            batch.logits[n] = pos >= layout.first
            n += 1
    batch.n_tokens = n
    status = ll.llama_decode(ctx, batch)
    if status != 0:
        raise EvalError(f"llama.cpp could not decode the text (status {status}).")


def evaluate(
    reference: str,
    models: list[str],
    text: str,
    workdir: Path,
    *,
    n_ctx: int = 512,
    n_batch: int = 2048,
    threads: int = 2,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[EvalPass, list[EvalPass]]:
    """The reference's own pass, then each model's against it."""
    tokens, n_vocab = tokenize(reference, text)
    for model in models:
        if tokenize(model, "Hearth compares vocabularies.")[1] != n_vocab:
            raise EvalError(f"{Path(model).name} has another vocabulary than the reference: not comparable.")
    layout = Layout.of(len(tokens), n_ctx, max(n_batch, n_ctx))
    report = progress or (lambda _model, _fraction: None)
    stop = cancelled or (lambda: False)
    workdir.mkdir(parents=True, exist_ok=True)
    file = workdir / "reference-log-probs.bin"
    try:
        with file.open("wb") as out:
            base = run_pass(reference, tokens, layout, threads, out, True, report, stop)
        results = []
        for model in models:
            with file.open("rb") as stored:
                results.append(run_pass(model, tokens, layout, threads, stored, False, report, stop))
        return base, results
    finally:
        file.unlink(missing_ok=True)
