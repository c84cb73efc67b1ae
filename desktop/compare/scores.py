"""Perplexity, KL divergence, top-1 agreement and Δp, computed as llama.cpp's ``llama-perplexity`` does.

The reference model's log-probabilities are kept in llama.cpp's own compact form: each
scored token's row is two float32 (a scale and the smallest log-probability kept) and one
uint16 per vocabulary entry, log-probabilities more than 16 below the top stored as that
floor. A row is a few hundred kilobytes for a 262,144-entry vocabulary, so rows go to a
file, never all to memory; logits are taken a few rows at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatRows = npt.NDArray[np.float32]
BLOCK_ROWS = 16  # logits rows handled at once: the temporaries stay a few tens of MB
FLOOR = 16.0  # log-probabilities kept within this of the top (llama.cpp's choice)


def row_units(n_vocab: int) -> int:
    """uint16 units in one packed row: 4 for the two float32, the vocabulary rounded up to even."""
    return 2 * ((n_vocab + 1) // 2) + 4


def _log_sum_exp(logits: FloatRows, top: FloatRows) -> FloatRows:
    # llama.cpp sums exp(logit - max) as float terms in a double; float64 here too.
    shifted = np.exp(logits - top[:, None], dtype=np.float32)
    result: FloatRows = np.log(shifted.sum(axis=1, dtype=np.float64)).astype(np.float32)
    return result


def pack_reference(
    logits: FloatRows, next_tokens: npt.NDArray[np.int32]
) -> tuple[npt.NDArray[np.uint16], np.ndarray]:
    """The reference's rows in llama.cpp's packed form, and each row's negative log-likelihood."""
    rows, n_vocab = logits.shape
    packed = np.zeros((rows, row_units(n_vocab)), dtype=np.uint16)
    nll = np.empty(rows, dtype=np.float64)
    for start in range(0, rows, BLOCK_ROWS):
        block = logits[start : start + BLOCK_ROWS]
        top = block.max(axis=1)
        low = np.maximum(block.min(axis=1), top - np.float32(FLOOR))
        lse = _log_sum_exp(block, top)
        scale = ((top - low) / np.float32(65535)).astype(np.float32)
        head = np.stack([scale, (low - top - lse).astype(np.float32)], axis=1)
        packed[start : start + len(block), :4] = head.view(np.uint16)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(scale > 0, np.float32(1) / scale, np.float32(0)).astype(np.float32)
            q = np.rint(inv[:, None] * (block - low[:, None]))
        q = np.where(block > low[:, None], q, 0)
        packed[start : start + len(block), 4 : 4 + n_vocab] = q.astype(np.uint16)
        chosen = block[np.arange(len(block)), next_tokens[start : start + len(block)]]
        nll[start : start + len(block)] = top + lse - chosen
    return packed, nll


def unpack_log_probs(packed: npt.NDArray[np.uint16], n_vocab: int) -> FloatRows:
    """The reference's log-probabilities back from packed rows (float32, as llama.cpp reads them)."""
    head = np.ascontiguousarray(packed[:, :4]).view(np.float32)
    scale, low = head[:, 0], head[:, 1]
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

    def add_perplexity(self, nll: np.ndarray) -> None:
        """Rows scored without a reference (the reference's own pass)."""
        self.count += len(nll)
        self.sum_nll += float(nll.sum())
        self.sum_nll2 += float((nll * nll).sum())

    def add_against(
        self, logits: FloatRows, packed: npt.NDArray[np.uint16], next_tokens: npt.NDArray[np.int32]
    ) -> None:
        """Rows of the model under test against the reference's packed rows for the same tokens."""
        n_vocab = logits.shape[1]
        for start in range(0, len(logits), BLOCK_ROWS):
            block = logits[start : start + BLOCK_ROWS]
            rows = np.arange(len(block))
            tokens = next_tokens[start : start + len(block)]
            top = block.max(axis=1)
            lse = _log_sum_exp(block, top)
            nll = (top + lse - block[rows, tokens]).astype(np.float64)
            base = unpack_log_probs(packed[start : start + len(block)], n_vocab)
            nll_base = -base[rows, tokens].astype(np.float64)
            log_p = block - (top + lse)[:, None]
            kept = base > -np.float32(FLOOR)
            kld = np.where(kept, np.exp(base) * (base - log_p), np.float32(0)).sum(axis=1, dtype=np.float64)
            p_diff = np.exp(-nll) - np.exp(-nll_base)
            self.count += len(block)
            self.sum_nll += float(nll.sum())
            self.sum_nll2 += float((nll * nll).sum())
            self.sum_nll_base += float(nll_base.sum())
            self.sum_kld += float(kld.sum())
            self.sum_kld2 += float((kld * kld).sum())
            self.sum_p_diff += float(p_diff.sum())
            self.sum_p_diff2 += float((p_diff * p_diff).sum())
            self.same_top += int((block.argmax(axis=1) == base.argmax(axis=1)).sum())


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
