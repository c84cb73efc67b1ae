"""Quants made with llama.cpp's quantizer, and their quality scored as llama-perplexity scores it."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from desktop.compare.evaluation import EvalError, Layout, evaluate, tokenize
from desktop.compare.quantize import QuantizeError, output_name, quantize, tensor_progress
from desktop.compare.scores import pack_reference, row_units, unpack_log_probs

N_CTX = 64
WORDS = ("the", "of", "and", "to", "in", "is", "that", "it", "for", "on", "was", "cat", "mat", "dog")


def _text(words: int = 1200, seed: int = 1) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(words))


def test_quants_are_made_with_their_type_and_never_left_half_written(wide_quants: dict[str, Path]) -> None:
    from desktop.gguf.header import read_header

    assert wide_quants["Q8_0"].name == "Wide-Q8_0.gguf" and wide_quants["Q4_K_M"].name == "Wide-Q4_K_M.gguf"
    sizes = [wide_quants[k].stat().st_size for k in ("F16", "Q8_0", "Q4_K_M")]
    assert sizes == sorted(sizes, reverse=True)
    assert read_header(wide_quants["Q4_K_M"]).quant == "Q4_K_M"
    with pytest.raises(QuantizeError, match="already there"):
        quantize(wide_quants["F16"], wide_quants["Q8_0"], "Q8_0", threads=1)


@pytest.mark.unmeasured  # it checks that nothing is left in its folder
def test_a_broken_source_fails_cleanly(tmp_path: Path, wide_quants: dict[str, Path]) -> None:
    broken = tmp_path / "Broken-F16.gguf"
    broken.write_bytes(wide_quants["F16"].read_bytes()[:4096])
    target = tmp_path / "Broken-Q4_K_M.gguf"
    with pytest.raises(QuantizeError, match="could not quantize"):
        quantize(broken, target, "Q4_K_M", threads=1)
    assert list(tmp_path.iterdir()) == [broken]  # nothing half-written left


def test_names_and_progress_lines() -> None:
    assert output_name(Path("Llama-3-8B-Instruct-F16.gguf"), "Q4_K_M") == "Llama-3-8B-Instruct-Q4_K_M.gguf"
    assert output_name(Path("model.gguf"), "Q6_K") == "model-Q6_K.gguf"
    assert tensor_progress("[  12/ 201]            blk.1.attn_k.weight - [  256,    64]") == pytest.approx(
        12 / 201
    )
    assert tensor_progress("llama_model_quantize_impl: model size") is None


def test_packed_reference_rows_hold_llama_cpps_precision() -> None:
    rng = np.random.default_rng(3)
    logits = (rng.standard_normal((5, 1001)) * 3).astype(np.float32)
    following = rng.integers(0, 1001, 5).astype(np.int32)
    packed, nll = pack_reference(logits, following)
    assert packed.shape == (5, row_units(1001))
    exact = logits - np.log(np.exp(logits.astype(np.float64)).sum(axis=1, keepdims=True))
    back = unpack_log_probs(packed, 1001)
    kept = exact > exact.max(axis=1, keepdims=True) - 16
    assert np.abs(back[kept] - exact[kept]).max() < 2e-3
    assert nll == pytest.approx(-exact[np.arange(5), following], rel=1e-5)


def _direct(path: Path, tokens: list[int], bos: int) -> list[np.ndarray]:
    """Each chunk's log-softmax rows for its scored half, from llama-cpp-python's logits, in float64."""
    from llama_cpp import Llama

    llm = Llama(
        str(path), n_ctx=N_CTX, n_batch=N_CTX, logits_all=True, n_threads=2, flash_attn=True, verbose=False
    )
    out = []
    try:
        for chunk in range(len(tokens) // N_CTX):
            piece = tokens[chunk * N_CTX : (chunk + 1) * N_CTX]
            llm.reset()  # type: ignore[no-untyped-call]
            llm.eval([bos, *piece[1:]])
            rows = np.array(llm.scores[N_CTX // 2 : N_CTX - 1], dtype=np.float64)
            out.append(
                rows
                - np.log(np.exp(rows - rows.max(1, keepdims=True)).sum(1, keepdims=True))
                - rows.max(1, keepdims=True)
            )
    finally:
        llm.close()
    return out


@pytest.mark.unmeasured  # it checks that nothing is left in its folder
def test_scores_match_a_direct_numpy_computation(wide_quants: dict[str, Path], tmp_path: Path) -> None:
    text = _text()
    tokens, _ = tokenize(str(wide_quants["F16"]), text)
    base, rows = evaluate(
        str(wide_quants["F16"]),
        [str(wide_quants["Q8_0"]), str(wide_quants["Q4_K_M"])],
        text,
        tmp_path,
        n_ctx=N_CTX,
        n_batch=256,
    )
    layout = Layout.of(len(tokens), N_CTX, 256)
    assert layout.n_seq == 4 and base.scores.tokens_scored == layout.n_chunk * (N_CTX - 1 - N_CTX // 2)
    reference = _direct(wide_quants["F16"], tokens, tokens[0])
    following = [
        np.array(tokens[c * N_CTX + N_CTX // 2 + 1 : (c + 1) * N_CTX]) for c in range(layout.n_chunk)
    ]

    def nll_of(log_probs: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([-lp[np.arange(len(f)), f] for lp, f in zip(log_probs, following, strict=True)])

    ppl_ref = float(np.exp(nll_of(reference).mean()))
    assert base.scores.ppl == pytest.approx(ppl_ref, rel=1e-3)
    for result, kind in zip(rows, ("Q8_0", "Q4_K_M"), strict=True):
        quant = _direct(wide_quants[kind], tokens, tokens[0])
        assert result.scores.ppl == pytest.approx(float(np.exp(nll_of(quant).mean())), rel=1e-3)
        p_ref = [np.exp(lp) for lp in reference]
        kld = np.concatenate([(p * (r - q)).sum(1) for p, r, q in zip(p_ref, reference, quant, strict=True)])
        assert result.scores.kld_mean == pytest.approx(float(kld.mean()), rel=0.03)
        same = np.concatenate([r.argmax(1) == q.argmax(1) for r, q in zip(reference, quant, strict=True)])
        assert result.scores.top1_agreement == pytest.approx(float(same.mean()), abs=0.005)
        dp = np.exp(-nll_of(quant)) - np.exp(-nll_of(reference))
        assert result.scores.delta_p_mean == pytest.approx(float(dp.mean()), abs=2e-3)
        assert result.scores.ppl_reference == pytest.approx(ppl_ref, rel=1e-3)
    # the coarser quant is further from the reference
    q8, q4 = rows[0].scores, rows[1].scores
    assert q8.kld_mean is not None and q4.kld_mean is not None and q8.kld_mean < q4.kld_mean
    assert q8.top1_agreement is not None and q4.top1_agreement is not None
    assert q8.top1_agreement > q4.top1_agreement
    assert not list(tmp_path.iterdir())  # the reference's log-probabilities are gone


def test_too_short_a_text_and_another_vocabulary_are_refused(
    wide_quants: dict[str, Path], model_cache: Callable[..., Path], tmp_path: Path
) -> None:
    other = model_cache("Other-F32.gguf", n_vocab=400)
    with pytest.raises(EvalError, match="at least 128"):
        evaluate(str(wide_quants["F16"]), [str(wide_quants["Q8_0"])], "the cat", tmp_path, n_ctx=N_CTX)
    with pytest.raises(EvalError, match="another vocabulary"):
        evaluate(str(wide_quants["F16"]), [str(other)], _text(), tmp_path, n_ctx=N_CTX)


def test_the_worker_reports_a_quants_progress_tensor_by_tensor(
    wide_quants: dict[str, Path], tmp_path: Path
) -> None:
    from desktop.engine.client import EngineClient
    from desktop.engine.protocol import TaskDone, TaskProgress

    client = EngineClient()
    target = tmp_path / "Wide-Q6_K.gguf"
    try:
        request = client.start_task(
            "quantize", source=str(wide_quants["F16"]), target=str(target), type="Q6_K"
        )
        events = list(client.task_events(request, timeout=60))
    finally:
        client.shutdown()
    fractions = [e.fraction for e in events if isinstance(e, TaskProgress)]
    assert len(fractions) == 21 and fractions == sorted(fractions) and fractions[-1] == 1.0  # 21 tensors
    done = events[-1]
    assert isinstance(done, TaskDone) and done.result["path"] == str(target) and target.is_file()
    assert done.result["devices"] and "CPU" in done.result["build_info"]
