"""The arena's leaderboard arithmetic and the history of runs, comparisons and votes."""

from __future__ import annotations

import csv
import io
import json
import math
import sqlite3
from pathlib import Path

import pytest

from desktop.compare.leaderboard import BASE, MIN_VOTES, SCALE, Vote, fit, standings
from desktop.compare.recording import runs_text, spread_text
from desktop.compare.results import CompareStore, machine_info, to_csv, to_json


def test_bradley_terry_recovers_a_known_win_rate() -> None:
    # A beats B three times in four: the fit puts A log(3) ahead less the prior's pull.
    votes = [Vote("A", "B", "a")] * 300 + [Vote("A", "B", "b")] * 100
    ratings = fit(votes)
    gap = (ratings["A"] - ratings["B"]) / SCALE
    assert gap == pytest.approx(math.log(3), rel=0.02)
    assert (ratings["A"] + ratings["B"]) / 2 == pytest.approx(BASE)


def test_ties_and_both_bad_count_half_and_the_order_is_transitive() -> None:
    votes = (
        [Vote("big", "mid", "a")] * 6
        + [Vote("mid", "small", "a")] * 6
        + [Vote("big", "small", "tie")] * 2
        + [Vote("big", "small", "a")] * 6
        + [Vote("mid", "small", "both_bad", "code")] * 2
    )
    table = standings(votes, resamples=50)
    assert [s.model for s in table] == ["big", "mid", "small"]
    big = table[0]
    assert big.games == 14 and big.wins == 13.0
    assert big.interval is not None
    assert big.interval[0] <= big.rating <= big.interval[1] and big.interval[1] - big.interval[0] > 0
    # per category: only the votes of that category
    code = standings(votes, category="code", resamples=20)
    assert {s.model for s in code} == {"mid", "small"}
    assert code[0].rating == pytest.approx(code[1].rating)  # two ties: level


def test_no_interval_until_the_bootstrap_has_votes_to_resample() -> None:
    # One vote: every resample is that vote again, so "1092 – 1092" would be no interval at all.
    (winner, loser) = standings([Vote("A", "B", "a")])
    assert winner.model == "A" and winner.rating > loser.rating
    assert winner.interval is None and loser.interval is None and winner.low is None
    # Fewer than MIN_VOTES games, even if they disagree: still none.
    few = [Vote("A", "B", "a"), Vote("A", "B", "b"), Vote("A", "B", "a")]
    assert all(s.interval is None for s in standings(few))
    # Many games that only ever go one way: the resamples never differ, so no interval either.
    assert all(s.interval is None for s in standings([Vote("A", "B", "a")] * 12, resamples=30))
    # Many that differ: a real interval around each rating, with C (too few games) still waiting.
    many = [Vote("A", "B", "a")] * 8 + [Vote("A", "B", "b")] * 4 + [Vote("A", "C", "a")] * 2
    table = {s.model: s for s in standings(many, resamples=60)}
    for model in ("A", "B"):
        low, high = table[model].interval or (0.0, 0.0)
        assert table[model].games >= MIN_VOTES and low < table[model].rating < high
    assert table["C"].games == 2 and table["C"].interval is None


def test_a_speed_figure_shows_its_spread_only_when_there_is_one() -> None:
    assert spread_text([41.26]) == "41.3" and runs_text(1) == "1 run"  # never "± 0.0"
    assert spread_text([40.0, 42.0, 44.0]) == "42.0 ± 2.0" and runs_text(3) == "3 runs"
    assert spread_text([512.4, 512.4], 0) == "512 ± 0"  # two runs that agree: a real zero spread
    assert spread_text([]) == "—"


def test_a_model_that_only_wins_still_has_a_finite_rating() -> None:
    ratings = fit([Vote("A", "B", "a")] * 5)
    assert math.isfinite(ratings["A"]) and ratings["A"] > ratings["B"]
    assert standings([]) == []


def test_runs_comparisons_and_votes_are_kept(tmp_path: Path) -> None:
    db = tmp_path / "compare.sqlite3"
    store = CompareStore(db)
    machine = machine_info({"build_info": "CPU : AVX2 = 1", "devices": ["CPU AMD EPYC (23.5 GiB)"]})
    assert machine["cpu"] and machine["logical_cpus"] >= 1 and machine["memory_bytes"] > 0
    assert machine["llama_cpp"] == "CPU : AVX2 = 1" and machine["devices"] == ["CPU AMD EPYC (23.5 GiB)"]
    first = store.add_run(
        "bench",
        machine,
        {"reps": 3},
        [("/m/a-Q4_K_M.gguf", "a-Q4_K_M.gguf", "Q4_K_M", 100, {"pp_tps": [10.0, 11.0], "tg_tps": [5.0]})],
    )
    second = store.add_run(
        "eval",
        machine,
        {"n_ctx": 512},
        [
            ("/m/a-Q8_0.gguf", "a-Q8_0.gguf", "Q8_0", 200, {"ppl": 10.5, "kld_mean": 0.01}),
            ("/m/a-Q4_K_M.gguf", "a-Q4_K_M.gguf", "Q4_K_M", 100, {"ppl": 11.0, "kld_mean": 0.05}),
        ],
    )
    history = store.history()
    assert [(r.run_id, r.name) for r in history] == [
        (second, "a-Q8_0.gguf"),
        (second, "a-Q4_K_M.gguf"),
        (first, "a-Q4_K_M.gguf"),
    ]
    assert store.history("bench")[0].metrics["pp_tps"] == [10.0, 11.0]
    table = list(csv.DictReader(io.StringIO(to_csv(store.history("eval")))))
    assert [(r["model"], r["ppl"], r["quant"]) for r in table] == [
        ("a-Q8_0.gguf", "10.5", "Q8_0"),
        ("a-Q4_K_M.gguf", "11.0", "Q4_K_M"),
    ]
    assert json.loads(to_json(history))[0]["machine"]["llama_cpp"] == "CPU : AVX2 = 1"

    saved = store.save_comparison("Q4 or Q8?", {"models": ["a", "b"], "turns": []})
    store.save_comparison("Q4 or Q8, again", {"models": ["a", "b"], "turns": [{"prompt": "hi"}]}, saved)
    assert store.comparisons()[0][0] == saved and store.comparisons()[0][2] == "Q4 or Q8, again"
    assert store.comparison(saved) == {"models": ["a", "b"], "turns": [{"prompt": "hi"}]}

    store.add_vote(Vote("a", "b", "tie", "writing"), "Write a haiku")
    with pytest.raises(ValueError):
        store.add_vote(Vote("a", "b", "maybe"), "?")
    store.delete_run(first)
    store.close()
    # another connection (the CLI beside the app) sees it all
    again = CompareStore(db)
    assert again.votes() == [Vote("a", "b", "tie", "writing")]
    assert {r.run_id for r in again.history()} == {second}
    again.close()
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone() == ("ok",)
