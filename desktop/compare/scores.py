"""Perplexity, KL divergence, top-1 agreement and Δp, computed as llama.cpp's ``llama-perplexity`` does.

The reference model's log-probabilities are kept in llama.cpp's own compact form: each
scored token's row is two float32 (a scale and the smallest log-probability kept) and one
uint16 per vocabulary entry, log-probabilities more than 16 below the top stored as that
floor. A row is a few hundred kilobytes for a 262,144-entry vocabulary, so rows go to a
file, never all to memory; logits are taken a few rows at a time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

FloatRows = npt.NDArray[np.float32]
T = TypeVar("T")
BLOCK_ROWS = 16  # logits rows handled at once: the temporaries stay a few tens of MB
FLOOR = 16.0  # log-probabilities kept within this of the top (llama.cpp's choice)


def row_units(n_vocab: int) -> int:
    """uint16 units in one packed row: 4 for the two float32, the vocabulary rounded up to even."""
    return 2 * ((n_vocab + 1) // 2) + 4


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _row_blocks(rows: int) -> list[range]:
    return [range(start, min(start + BLOCK_ROWS, rows)) for start in range(0, rows, BLOCK_ROWS)]


def _in_threads(work: Callable[[range], T], rows: int) -> list[T]:
    """``work`` over blocks of rows on a few threads (numpy lets go of the GIL in its loops)."""
    blocks = _row_blocks(rows)
    if len(blocks) < 2 or _threads() == 1:
        return [work(b) for b in blocks]
    with ThreadPoolExecutor(_threads()) as pool:
        return list(pool.map(work, blocks))


def _log_sum_exp(block: FloatRows, top: FloatRows, scratch: FloatRows) -> FloatRows:
    np.subtract(block, top[:, None], out=scratch)
    np.exp(scratch, out=scratch)
    # llama.cpp sums in a double; numpy's pairwise float32 sum is as close at these sizes.
    result: FloatRows = np.log(scratch.sum(axis=1, dtype=np.float32))
    return result


def pack_reference(
    logits: FloatRows, next_tokens: npt.NDArray[np.int32]
) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.float64]]:
    """The reference's rows in llama.cpp's packed form, and each row's negative log-likelihood."""
    rows, n_vocab = logits.shape
    packed = np.zeros((rows, row_units(n_vocab)), dtype=np.uint16)
    nll = np.empty(rows, dtype=np.float64)

    def work(span: range) -> None:
        block = logits[span.start : span.stop]
        scratch = np.empty_like(block)
        top = block.max(axis=1)
        low = np.maximum(block.min(axis=1), top - np.float32(FLOOR))
        lse = _log_sum_exp(block, top, scratch)
        scale = ((top - low) / np.float32(65535)).astype(np.float32)
        head = np.stack([scale, (low - top - lse).astype(np.float32)], axis=1)
        packed[span.start : span.stop, :4] = head.view(np.uint16)
        inv = np.divide(np.float32(1), scale, out=np.zeros_like(scale), where=scale > 0)
        # (logit - low) / scale, rounded; below the floor (negative here) stored as 0.
        np.subtract(block, low[:, None], out=scratch)
        np.multiply(scratch, inv[:, None], out=scratch)
        np.clip(scratch, 0, 65535, out=scratch)
        np.rint(scratch, out=scratch)
        packed[span.start : span.stop, 4 : 4 + n_vocab] = scratch
        chosen = block[np.arange(len(block)), next_tokens[span.start : span.stop]]
        nll[span.start : span.stop] = top + lse - chosen

    _in_threads(work, rows)
    return packed, nll


def _scale_and_floor(packed: npt.NDArray[np.uint16]) -> tuple[FloatRows, FloatRows]:
    """Each packed row's two leading float32: the code's step and the smallest log-probability."""
    head = np.ascontiguousarray(packed[:, :4]).view(np.float32)
    return head[:, 0], head[:, 1]


def unpack_log_probs(packed: npt.NDArray[np.uint16], n_vocab: int) -> FloatRows:
    """The reference's log-probabilities back from packed rows (float32, as llama.cpp reads them).

    The format's definition; ``Totals.add_against`` decodes only the entries it needs.
    """
    scale, low = _scale_and_floor(packed)
    values: FloatRows = scale[:, None] * packed[:, 4 : 4 + n_vocab].astype(np.float32) + low[:, None]
    return values


@dataclass
class Totals:
    """Running sums over scored tokens, as llama.cpp's ``kl_divergence_result``."""

    count: int = 0
    sum_nll: float = 0.0
    sum_nll2: float = 0.0
    sum_nll_base: float = 0.0
    sum_kld: float = 0.0
    sum_kld2: float = 0.0
    sum_p_diff: float = 0.0
    sum_p_diff2: float = 0.0
    same_top: int = 0

    def merge(self, other: Totals) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def add_perplexity(self, nll: npt.NDArray[np.float64]) -> None:
        """Rows scored without a reference (the reference's own pass)."""
        self.count += len(nll)
        self.sum_nll += float(nll.sum())
        self.sum_nll2 += float((nll * nll).sum())

    def add_against(
        self, logits: FloatRows, packed: npt.NDArray[np.uint16], next_tokens: npt.NDArray[np.int32]
    ) -> None:
        """Rows of the model under test against the reference's packed rows for the same tokens."""
        n_vocab = logits.shape[1]

        def work(span: range) -> Totals:
            block = logits[span.start : span.stop]
            stored = packed[span.start : span.stop]
            rows = np.arange(len(block))
            tokens = next_tokens[span.start : span.stop]
            scratch = np.empty_like(block)
            top = block.max(axis=1)
            lse = _log_sum_exp(block, top, scratch)
            nll = (top + lse - block[rows, tokens]).astype(np.float64)
            scale, low = _scale_and_floor(stored)
            codes = stored[:, 4 : 4 + n_vocab]
            chosen = codes[rows, tokens].astype(np.float32)
            nll_base = -(scale * chosen + low).astype(np.float64)
            # KL = sum of p_base (log p_base - log p) over the entries llama.cpp keeps (above
            # -16), log p being logit - top - lse. Most of a large vocabulary lies below: only
            # the kept entries are gathered (a code above the floor's code is kept).
            with np.errstate(divide="ignore", invalid="ignore"):
                floor_code = np.where(scale > 0, (-np.float32(FLOOR) - low) / scale, np.inf)
            at_row, at_col = np.nonzero(codes > floor_code[:, None])
            base = scale[at_row] * codes[at_row, at_col].astype(np.float32) + low[at_row]
            log_p = block[at_row, at_col] - (top + lse)[at_row]
            terms = np.exp(base) * (base - log_p)
            kld = np.bincount(at_row, weights=terms.astype(np.float64), minlength=len(block))
            p_diff = np.exp(-nll) - np.exp(-nll_base)
            part = Totals()
            part.count = len(block)
            part.sum_nll = float(nll.sum())
            part.sum_nll2 = float((nll * nll).sum())
            part.sum_nll_base = float(nll_base.sum())
            part.sum_kld = float(kld.sum())
            part.sum_kld2 = float((kld * kld).sum())
            part.sum_p_diff = float(p_diff.sum())
            part.sum_p_diff2 = float((p_diff * p_diff).sum())
            # The stored codes order as the log-probabilities do (scale > 0): compare those.
            part.same_top = int((block.argmax(axis=1) == codes.argmax(axis=1)).sum())
            return part

        for part in _in_threads(work, len(logits)):
            self.merge(part)


@dataclass(frozen=True)
class Scores:
    """What a pass measured; the ± are standard errors of the means, as llama.cpp prints them."""

    tokens_scored: int
    ppl: float
    ppl_error: float
    kld_mean: float | None = None
    kld_error: float | None = None
    top1_agreement: float | None = None  # share of tokens where both models' likeliest token is the same
    delta_p_mean: float | None = None  # mean of p(token) under the model less under the reference
    ppl_reference: float | None = None


def _mean_and_error(total: float, squares: float, count: int) -> tuple[float, float]:
    if count < 1:
        return 0.0, 0.0
    mean = total / count
    variance = squares / count - mean * mean
    return mean, math.sqrt(variance / (count - 1)) if variance > 0 and count > 10 else 0.0


def scores(totals: Totals, against_reference: bool) -> Scores:
    log_ppl, log_error = _mean_and_error(totals.sum_nll, totals.sum_nll2, totals.count)
    ppl = math.exp(log_ppl)
    if not against_reference:
        return Scores(totals.count, ppl, ppl * log_error)
    kld, kld_error = _mean_and_error(totals.sum_kld, totals.sum_kld2, totals.count)
    return Scores(
        tokens_scored=totals.count,
        ppl=ppl,
        ppl_error=ppl * log_error,
        kld_mean=kld,
        kld_error=kld_error,
        top1_agreement=totals.same_top / totals.count if totals.count else 0.0,
        delta_p_mean=totals.sum_p_diff / totals.count if totals.count else 0.0,
        ppl_reference=math.exp(totals.sum_nll_base / totals.count) if totals.count else 0.0,
    )
