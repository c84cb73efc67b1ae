"""The compare window, offscreen: side by side, the blind arena, speed, quality, results, a new quant."""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.compare.results import CompareStore
from desktop.library.scan import describe_model
from desktop.paths import hearth_paths
from desktop.ui.compare.page import ComparePage
from desktop.ui.compare.results import chart_points, summary
from desktop.ui.shell.main_window import MainWindow
from tests.test_compare_eval import _text
from tests.test_ui import open_window

__all__ = ["open_window"]  # a fixture, shared with test_ui


@pytest.fixture
def compare(
    qtbot,
    open_window: Callable[[], MainWindow],
    models_dir: Path,
    tiny_model: Path,
    wide_quants: dict[str, Path],
) -> tuple[MainWindow, ComparePage]:
    for folder, source in (("Tiny", tiny_model), *(("Wide", p) for p in wide_quants.values())):
        target = models_dir / "owner" / folder / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    window = open_window()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 4)
    compare_page = window.open_compare()
    assert compare_page is not None and compare_page.isVisible()
    return window, compare_page


def _check(checklist, *labels: str) -> None:
    for i in range(checklist.count()):
        item = checklist.item(i)
        wanted = any(item.text() == label for label in labels)
        item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)


def _shot(widget, name: str) -> None:
    folder = os.environ.get("HEARTH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / name))


def test_one_model_list_serves_every_tab_and_each_tab_says_what_it_takes(
    qtbot, compare, tiny_model: Path, tmp_path: Path
) -> None:
    _window, win = compare
    tabs = (win.side, win.arena, win.speed, win.quality)
    assert all(tab.models is win.models for tab in tabs)
    assert win.findChildren(type(win.models)) == [win.models]  # one list on the page, no other
    assert win.models.width() >= 200 and win.models.textElideMode() == Qt.TextElideMode.ElideRight
    assert win.models.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    # checked once, the same models in every tab; beneath the list, what the current tab takes
    _check(win.models, "Wide-Q8_0", "Wide-Q4_K_M")
    needs = {}
    for tab in (*tabs, win.results):
        win.tabs.setCurrentWidget(tab)
        assert win.models.isVisible()
        needs[win.tabs.tabText(win.tabs.currentIndex())] = win.needs.text()
    assert [m.name for m in win.speed.models.checked()] == ["Wide-Q4_K_M", "Wide-Q8_0"]
    assert [c.label for c in win.side.runner.columns] == ["Wide-Q4_K_M", "Wide-Q8_0"]
    assert needs["Side by side"].startswith("Side by side: check 2 to 4 models")
    assert "2 or more" in needs["Blind arena"] and "up to 12" in needs["Speed"]
    assert "against the reference" in needs["Quality"] and needs["Results"].startswith("Results:")
    # each tab keeps its own limits and says so: one model is too few for side by side or the arena
    _check(win.models, "Wide-Q8_0")
    assert not win.side.prompt.send_button.isEnabled() and not win.arena.prompt.send_button.isEnabled()
    win.side.send("Hello")
    assert win.side.status.text() == "Check two to four models to compare." and not win.side.runner.busy
    win.arena.send("Hello")
    assert win.arena.reveal.text() == "The arena needs two or more checked models."
    # all four: side by side's most, a column each
    _check(win.models, "tiny-llama-F32", "Wide-F16", "Wide-Q8_0", "Wide-Q4_K_M")
    assert len(win.side.runner.columns) == 4 and win.side.prompt.send_button.isEnabled()
    win.tabs.setCurrentWidget(win.side)
    widths = [view.width() for view in win.side.area.views]
    assert max(widths) - min(widths) <= 2, widths  # equal columns
    # a fifth model: fine for the arena, one too many for side by side, which says so
    fifth = tmp_path / "tiny-llama-copy-F32.gguf"
    shutil.copyfile(tiny_model, fifth)
    win.set_library(
        [*(win.models.item(i).data(Qt.ItemDataRole.UserRole) for i in range(4)), describe_model(fifth)]
    )
    for i in range(win.models.count()):
        win.models.item(i).setCheckState(Qt.CheckState.Checked)
    too_many = "Side by side takes 2 to 4 models; 5 are checked. Uncheck some."
    assert win.side.status.text() == too_many and not win.side.prompt.send_button.isEnabled()
    win.side.send("Hello")
    assert win.side.status.text() == too_many and not win.side.runner.busy
    assert win.arena.prompt.send_button.isEnabled()
    win.models.item(4).setCheckState(Qt.CheckState.Unchecked)
    assert win.side.status.text() == "" and win.side.prompt.send_button.isEnabled()


def test_side_by_side_streams_columns_continues_saves_and_reopens(qtbot, compare) -> None:
    _window, win = compare
    side = win.side
    assert win.models.count() == 4
    _check(win.models, "tiny-llama-F32", "Wide-Q4_K_M")
    assert len(side.area.views) == 2 and not side.prompt.text.isReadOnly()
    side.sampling.max_tokens.setValue(12)
    side.prompt.text.setPlainText("Tell me about cats")
    qtbot.mouseClick(side.prompt.send_button, Qt.MouseButton.LeftButton)
    assert side.prompt.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not side.runner.busy, timeout=60_000)
    for column, view in zip(side.runner.columns, side.area.views, strict=True):
        assert column.stats is not None and column.stats.completion_tokens == 12
        assert [m.role for m in column.messages] == ["user", "assistant"]
        assert "tokens/s" in view.figures.text() and "peak" in view.figures.text()
        assert "Tell me about cats" in view.view.toPlainText()
    _shot(win, "compare-side-by-side.png")
    # go on in every column
    side.send("And dogs?")
    qtbot.waitUntil(lambda: not side.runner.busy, timeout=60_000)
    assert all(len(c.messages) == 4 for c in side.runner.columns)
    # save, clear, open again
    side.save()
    saved = side._store.comparisons()
    assert len(saved) == 1 and "tiny-llama-F32 vs Wide-Q4_K_M" in saved[0][2]
    side.new()
    assert not any(c.messages for c in side.runner.columns)
    side.open(saved[0][0])
    assert [len(c.messages) for c in side.runner.columns] == [4, 4]
    assert "And dogs?" in side.area.views[1].view.toPlainText()


def test_engine_settings_changed_while_compare_is_open_reach_its_models(qtbot, compare) -> None:
    from dataclasses import replace

    window, win = compare
    window.apply_engine_settings(replace(window.context.settings, load_context=256, batch_size=128))
    side = win.side
    _check(win.models, "tiny-llama-F32", "Wide-Q4_K_M")
    side.sampling.max_tokens.setValue(2)
    side.prompt.text.setPlainText("Hi")
    qtbot.mouseClick(side.prompt.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not side.runner.busy, timeout=60_000)
    assert side.runner.engines
    for engine in side.runner.engines:
        assert engine.model is not None and (engine.model.n_ctx, engine.model.n_batch) == (256, 128)


def test_models_that_fit_together_can_answer_at_the_same_time(qtbot, compare) -> None:
    _window, win = compare
    side = win.side
    _check(win.models, "tiny-llama-F32", "Wide-Q8_0", "Wide-Q4_K_M")
    assert side.parallel.isEnabled()  # a few megabytes: they fit
    side.parallel.setChecked(True)
    side.sampling.max_tokens.setValue(8)
    side.send("Hello")
    assert len(side.runner.engines) == 3  # a worker a column
    qtbot.waitUntil(lambda: not side.runner.busy, timeout=60_000)
    assert all(c.stats is not None and c.stats.completion_tokens == 8 for c in side.runner.columns)
    pids = {e.worker_pid for e in side.runner.engines}
    assert len(pids) == 3 and None not in pids


def test_stopping_keeps_what_was_written_and_skips_the_rest(qtbot, compare) -> None:
    _window, win = compare
    side = win.side
    _check(win.models, "tiny-llama-F32", "Wide-Q8_0")
    side.sampling.max_tokens.setValue(4000)
    side.send("Write at length")
    qtbot.waitUntil(lambda: len(side.runner.columns[0].reply) > 20, timeout=60_000)
    side.runner.stop()
    qtbot.waitUntil(lambda: not side.runner.busy, timeout=60_000)
    first, second = side.runner.columns
    assert first.stats is not None and first.stats.stop_reason == "cancelled"
    assert first.messages[-1].role == "assistant" and first.messages[-1].content
    assert second.messages == [] and second.error == "Stopped before this model answered."


def test_the_blind_arena_hides_names_until_the_vote(qtbot, compare) -> None:
    _window, win = compare
    arena = win.arena
    win.tabs.setCurrentWidget(arena)
    _check(win.models, "tiny-llama-F32", "Wide-Q4_K_M")
    arena.sampling.max_tokens.setValue(8)
    arena.category.setCurrentText("Writing")
    arena.send("A haiku about rain")
    assert [v.title.text() for v in arena.area.views] == ["A", "B"]
    qtbot.waitUntil(lambda: arena.votes[0].isEnabled(), timeout=60_000)
    assert "tiny-llama" not in arena.area.views[0].title.text()
    assert not arena.area.views[0].figures.isVisible()  # speed and memory would tell
    _shot(win, "compare-arena.png")
    qtbot.mouseClick(arena.votes[0], Qt.MouseButton.LeftButton)  # A is better
    assert not arena.votes[0].isEnabled()
    assert arena.area.views[0].title.text().startswith("A: ") and arena.area.views[0].figures.isVisible()
    assert "A was" in arena.reveal.text()
    winner = arena.runner.columns[0].model_path
    board = arena.board_model.records()
    assert len(board) == 2 and board[0].model == winner and board[0].wins == 1.0
    # one vote is nothing to resample: no "1092 – 1092", the interval waits for more votes
    interval = arena.board_model.index(0, 2)
    assert arena.board_model.headerData(2, Qt.Orientation.Horizontal) == "95% interval"
    assert arena.board_model.data(interval) == "needs more votes"
    assert "at least 5 votes" in arena.board_model.data(interval, Qt.ItemDataRole.ToolTipRole)
    store = CompareStore(hearth_paths().compare_db)
    assert [(v.outcome, v.category) for v in store.votes()] == [("a", "Writing")]
    store.close()
    arena.board_filter.setCurrentText("Code")
    assert arena.board_model.rowCount() == 0


def test_speed_and_quality_runs_land_in_results_and_export(qtbot, compare, tmp_path: Path) -> None:
    _window, win = compare
    speed, quality, results = win.speed, win.quality, win.results
    win.tabs.setCurrentWidget(speed)
    _check(win.models, "Wide-Q8_0", "Wide-Q4_K_M")
    speed.reps.setValue(1)
    qtbot.mouseClick(speed.run_button, Qt.MouseButton.LeftButton)
    assert speed.progress.bar.isVisible()
    qtbot.waitUntil(lambda: speed.run_button.isEnabled(), timeout=60_000)
    assert speed.table_model.rowCount() == 2, speed.progress.stage.text()
    assert all(r["peak_rss_bytes"] > 0 and r["tg_tps"][0] > 0 for r in speed.table_model.records())
    # one repetition has no spread: "(1 run)", never "± 0.0"
    for column in (1, 2):
        cell = speed.table_model.data(speed.table_model.index(0, column))
        assert cell.endswith(" (1 run)") and "±" not in cell, cell
    _shot(win, "compare-speed.png")

    # a run can be cancelled, and leaves no worker behind
    speed.start()
    qtbot.waitUntil(lambda: speed.engine.worker_pid is not None, timeout=10_000)
    qtbot.mouseClick(speed.progress.cancel, Qt.MouseButton.LeftButton)
    assert speed.run_button.isEnabled() and speed.progress.stage.text() == "Cancelled."
    assert speed.engine.worker_pid is None and speed.table_model.rowCount() == 0

    win.tabs.setCurrentWidget(quality)
    _check(win.models, "Wide-Q8_0", "Wide-Q4_K_M")
    # the most precise build of the same model, not the most precise file on disk (the F32 tiny one)
    assert quality.reference.currentText().startswith("Wide-F16")
    text = tmp_path / "text.txt"
    text.write_text(_text())
    quality.set_text_file(text)
    quality.ctx.setValue(64)
    qtbot.mouseClick(quality.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: quality.run_button.isEnabled(), timeout=60_000)
    rows = {Path(r["model"]).stem: r for r in quality.table_model.records()}
    assert set(rows) == {"Wide-Q8_0", "Wide-Q4_K_M"}, quality.progress.stage.text()
    assert rows["Wide-Q8_0"]["kld_mean"] < rows["Wide-Q4_K_M"]["kld_mean"]  # Q8_0 is closer
    assert "perplexity" in quality.summary.text()
    # each quality column says which way is better, in its header and on hovering it
    headers = [quality.table_model.headerData(i, Qt.Orientation.Horizontal) for i in range(1, 5)]
    assert headers == [
        "Perplexity\nlower is better",
        "KL divergence\nlower is better",
        "Same top\nhigher is better",
        "Δp\nnearer 0 is better",
    ]
    tip = quality.table_model.headerData(3, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "most likely next token" in tip and tip.endswith("Higher is better.")
    _shot(win, "compare-quality.png")

    win.tabs.setCurrentWidget(results)
    assert results.table_model.rowCount() == 4
    timed = [r for r in results.table_model.records() if r.kind == "bench"]
    figures = results.table_model.columnCount() - 1
    header_tip = results.table_model.headerData(
        figures, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole
    )
    assert "PPL and KLD lower is better" in header_tip and "higher is better" in header_tip
    scored = next(i for i, r in enumerate(results.table_model.records()) if r.kind == "eval")
    cell_tip = results.table_model.data(
        results.table_model.index(scored, figures), Qt.ItemDataRole.ToolTipRole
    )
    assert "perplexity (lower is better)" in cell_tip and "same top token (higher is better)" in cell_tip
    assert all("· 1 run ·" in summary(r) and "±" not in summary(r) for r in timed), timed
    # kept as `hearth bench` and `hearth eval` keep them: the engine's facts go with the run
    for row in win.store.history():
        assert not {"model", "build_info", "devices"} & set(row.metrics), row.metrics
        assert row.machine["llama_cpp"] and ("tg_tps" in row.metrics or "seconds" in row.metrics)
    # one point a build, named by its quant, at its newest speed and quality figures
    points = {label: (x, y) for label, x, y in chart_points(win.store.history(), "kld_mean", "tg_tps")}
    assert set(points) == {"Q8_0", "Q4_K_M"} and points["Q8_0"][1] < points["Q4_K_M"][1]
    import pyqtgraph as pg

    drawn = results.plot.getPlotItem().items
    scatter = [item for item in drawn if isinstance(item, pg.ScatterPlotItem)]
    assert len(scatter) == 1 and len(scatter[0].points()) == 2 and not results.empty.isVisible()
    assert {item.textItem.toPlainText() for item in drawn if isinstance(item, pg.TextItem)} == set(points)
    # plain units on both axes, whatever the figures' size: no "×0.001" beside a label
    for quality_index in range(results.quality.count()):
        results.quality.setCurrentIndex(quality_index)
        for speed_index in range(results.speed.count()):
            results.speed.setCurrentIndex(speed_index)
            for name, chosen in (("left", results.quality), ("bottom", results.speed)):
                axis = results.plot.getAxis(name)
                assert not axis.autoSIPrefix and axis.autoSIPrefixScale == 1.0 and axis.labelUnits == ""
                assert axis.labelText == chosen.currentText() and "(x" not in axis.labelString()
    assert [results.speed.itemText(i) for i in range(3)][2] == "File size (GiB)"
    results.quality.setCurrentIndex(2)  # the same top token: a percentage, as the tables show it
    assert "%" in results.plot.getAxis("left").labelText
    agree = chart_points(win.store.history(), "top1_agreement", "tg_tps")
    assert all(1.0 < y <= 100.0 for _label, _x, y in agree), agree
    results.quality.setCurrentIndex(0)
    results.speed.setCurrentIndex(0)
    _shot(win, "compare-results.png")
    results.kind.setCurrentIndex(2)  # quality only
    out = tmp_path / "results.csv"
    results.export(out, "csv")
    table = list(csv.DictReader(out.open()))
    assert sorted(r["quant"] for r in table) == ["Q4_K_M", "Q8_0"] and float(table[0]["kld_mean"]) > 0
    results.export(tmp_path / "results.json", "json")
    assert json.loads((tmp_path / "results.json").read_text())[0]["kind"] == "eval"


def test_speed_cells_keep_the_spread_of_two_or_more_runs() -> None:
    from desktop.ui.compare.runs import _speed_columns

    columns = {c.header: c for c in _speed_columns()}
    record = {"model": "/m/Wide-Q4_K_M.gguf", "pp_tps": [500.0, 520.0, 510.0], "tg_tps": [40.0, 44.0]}
    assert columns["Prompt t/s"].text(record) == "510.0 ± 10.0"
    assert columns["Generation t/s"].text(record) == "42.0 ± 2.8"
    assert columns["Generation t/s"].text({**record, "tg_tps": [41.0]}) == "41.0 (1 run)"


def test_a_quant_made_from_the_window_lands_in_the_library(qtbot, compare, models_dir: Path) -> None:
    window, _win = compare
    window.my_models.select_path(str(models_dir / "owner" / "Wide" / "Wide-F16.gguf"))
    dialog = window.make_quant()
    assert dialog.source.currentText().startswith("Wide-F16")
    dialog.kind.setCurrentText("Q5_K_M")
    assert dialog.target.text().endswith("Wide-Q5_K_M.gguf") and dialog.make_button.isEnabled()
    made: list[Path] = []
    dialog.made.connect(made.append)
    qtbot.mouseClick(dialog.make_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(made), timeout=60_000)
    assert made[0] == models_dir / "owner" / "Wide" / "Wide-Q5_K_M.gguf"
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 5)
    assert not dialog.make_button.isEnabled()  # it is there now
    dialog.reject()
