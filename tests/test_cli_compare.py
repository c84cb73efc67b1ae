"""``hearth quantize``, ``hearth eval`` and ``hearth bench`` as real processes on factory models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from desktop.compare.evaluation import evaluate
from desktop.compare.results import CompareStore
from desktop.library.scan import describe_model
from desktop.paths import hearth_paths
from tests.test_cli import hearth
from tests.test_compare_eval import N_CTX, _text


def test_quantize_lands_beside_its_source_in_the_library(
    wide_quants: dict[str, Path], models_dir: Path
) -> None:
    source = models_dir / "owner" / "Wide-GGUF" / "Wide-F16.gguf"
    source.parent.mkdir(parents=True)
    shutil.copyfile(wide_quants["F16"], source)
    result = hearth("quantize", str(source), "q4_k_m", "--json")
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stdout)
    assert entry["path"] == str(source.with_name("Wide-Q4_K_M.gguf"))
    assert (entry["quant"], entry["source"], entry["status"]) == ("Q4_K_M", "hearth", "ok")
    listed = json.loads(hearth("list", "--json").stdout)
    assert {m["quant"] for m in listed} == {"F16", "Q4_K_M"}
    # again: refused, the first kept
    again = hearth("quantize", str(source), "Q4_K_M")
    assert again.returncode == 1 and "already there" in again.stderr
    # from a quant that is not a precise source: refused in words
    worse = hearth("quantize", entry["path"], "Q2_K")
    assert worse.returncode == 1 and "quantize from F16, BF16, F32 or Q8_0" in worse.stderr
    assert sorted(p.name for p in source.parent.iterdir()) == ["Wide-F16.gguf", "Wide-Q4_K_M.gguf"]


def test_eval_gives_the_numbers_the_core_gives(wide_quants: dict[str, Path], tmp_path: Path) -> None:
    text_file = tmp_path / "text.txt"
    text_file.write_text(_text())
    result = hearth(
        "eval",
        str(wide_quants["Q8_0"]),
        str(wide_quants["Q4_K_M"]),
        "--reference",
        str(wide_quants["F16"]),
        "--text",
        str(text_file),
        "--ctx",
        str(N_CTX),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["model"] for r in rows] == ["Wide-Q8_0", "Wide-Q4_K_M"]  # as `hearth list` names them
    _base, passes = evaluate(
        str(wide_quants["F16"]),
        [str(wide_quants["Q8_0"]), str(wide_quants["Q4_K_M"])],
        _text(),
        tmp_path / "work",
        n_ctx=N_CTX,
    )
    for row, scored in zip(rows, passes, strict=True):
        assert row["ppl"] == pytest.approx(scored.scores.ppl, rel=1e-4)
        assert row["kld_mean"] == pytest.approx(scored.scores.kld_mean, rel=1e-3)
        assert row["top1_agreement"] == pytest.approx(scored.scores.top1_agreement, abs=1e-3)
        assert row["tokens_scored"] == scored.scores.tokens_scored > 0


def test_eval_without_a_text_writes_one_with_the_reference_once(wide_quants: dict[str, Path]) -> None:
    args = ("eval", str(wide_quants["Q8_0"]), "--reference", str(wide_quants["F16"]), "--ctx", "32", "--json")
    first = hearth(*args)
    assert first.returncode == 0, first.stderr
    from desktop.compare.reference_text import cache_file

    written = cache_file(wide_quants["F16"], 4 * 32)
    assert written.is_file() and len(written.read_text().split()) > 50
    again = hearth(*args)
    assert json.loads(again.stdout) == json.loads(first.stdout)  # the same text, from the cache
    # The table says which way is better for each figure.
    table = hearth(*args[:-1])
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[-1] == (
        "PPL lower is better; KLD lower is better; SAME TOP higher is better; ΔP nearer 0 is better"
    )


def test_bench_measures_each_model(tiny_model: Path, wide_quants: dict[str, Path]) -> None:
    result = hearth("bench", str(tiny_model), str(wide_quants["Q4_K_M"]), "--reps", "2", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["model"] for r in rows] == [describe_model(tiny_model).name, "Wide-Q4_K_M"]
    for row in rows:
        assert row["reps"] == 2
        assert row["pp_tps"] > 0 and row["tg_tps"] > 0 and row["ttft_ms"] > 0 and row["load_ms"] > 0
        assert row["peak_rss_bytes"] > 10 * 1024 * 1024
    store = CompareStore(hearth_paths().compare_db)
    kept = store.history("bench")
    store.close()
    assert len(kept) == 2 and kept[0].machine["llama_cpp"]
    assert all(not {"model", "build_info", "devices"} & set(r.metrics) and r.metrics["tg_tps"] for r in kept)
    # Without --json each repetition is printed as it finishes, with its figures
    shown = hearth("bench", str(tiny_model), "--reps", "2")
    assert shown.returncode == 0, shown.stderr
    reps = [line for line in shown.stderr.splitlines() if line.startswith("Repetition ")]
    assert len(reps) == 2 and reps[0].startswith("Repetition 1 of 2 of ") and "generation" in reps[1]
    head, row = shown.stdout.splitlines()
    assert head.split()[-1] == "RUNS" and row.endswith("2 runs") and row.count(" ± ") == 2, shown.stdout
    once = hearth("bench", str(tiny_model), "--reps", "1")
    assert once.returncode == 0 and once.stdout.splitlines()[1].endswith("1 run"), once.stdout
    assert "±" not in once.stdout
    broken = hearth("bench", "/nonexistent.gguf")
    assert broken.returncode == 1 and broken.stderr.startswith("error: ")
