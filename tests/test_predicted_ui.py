"""Predicted speed in the window: My models and Discover's quant rows say how fast each build
should write here, in tokens/s and a word, with how it was worked out on hover; one quant row is
Recommended; the probe that measures this computer runs once, in a child process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.app.machine_speed import cached_machine_speed
from desktop.paths import hearth_paths
from desktop.ui.shell.main_window import MainWindow
from tests.conftest import TEST_REPO, measured_machine
from tests.fakehub import FakeHub
from tests.test_ui import open_window

__all__ = ["open_window"]  # a fixture, shared with test_ui


def _speed_cells(model, column: int) -> list[str]:
    return [model.index(r, column).data() for r in range(model.rowCount())]


def test_my_models_and_discover_predict_speed_and_recommend_a_build(
    qtbot, open_window: Callable[..., MainWindow], fake_hub: FakeHub, models_dir: Path, tiny_model: Path
) -> None:
    target = models_dir / "owner" / "Tiny-GGUF" / tiny_model.name
    target.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, target)
    window = open_window()  # measured at 10 GB/s
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1)
    library = window.library.model
    qtbot.waitUntil(lambda: window.hub.machine.measured)  # the cached figure, read off the GUI thread
    [cell] = _speed_cells(library, library.SPEED_COLUMN)
    assert cell.endswith("tok/s · fast")  # half a megabyte a token at 10 GB/s
    tip = library.index(0, library.SPEED_COLUMN).data(Qt.ItemDataRole.ToolTipRole)
    assert "measured once" in tip and "tokens/s" in tip
    assert library.headerData(library.SPEED_COLUMN, Qt.Orientation.Horizontal) == "Speed here"

    record = library.record(0)
    assert record is not None and record.parameters
    fake_hub.repos[TEST_REPO].gguf = {"total": record.parameters}  # as the Hub counts a GGUF repo's
    # The recommended starters say how fast their build should write here, usable ones first
    results = window.hub.results
    starters = _speed_cells(results, 5)
    assert starters and all(" tok/s · " in cell for cell in starters[:3])
    assert not starters[0].endswith("slow")
    window.hub.open_repo(TEST_REPO)
    quants = window.hub.quants
    qtbot.waitUntil(
        lambda: quants.rowCount() == 3 and quants.report is not None and quants.report.header_read
    )
    speeds = _speed_cells(quants, quants.SPEED_COLUMN)
    names = _speed_cells(quants, 0)
    models = [i for i, n in enumerate(names) if not n.startswith("mmproj")]
    assert all(speeds[i].endswith("· fast") for i in models)
    # The best quality that fits and is usable (the largest file; these two are the same size),
    # marked in words and bold
    chosen = quants.recommended()
    assert chosen in ("F32", "Q8_0")
    [marked] = [n for n in names if n.endswith("· Recommended")]
    row = names.index(marked)
    assert marked == f"{chosen} · Recommended" and quants.index(row, 0).data(Qt.ItemDataRole.FontRole).bold()
    bits = _speed_cells(quants, 2)
    assert all(bits[i] != "—" for i in models), (bits, quants.report.parameters if quants.report else 0)

    # A computer that reads 2 MB/s: every build is slow, and none is recommended
    measured_machine(2e6)
    window.hub.refresh_machine(probe=False)
    qtbot.waitUntil(lambda: window.hub.machine.cpu_bytes_per_s == 2e6)
    assert _speed_cells(library, library.SPEED_COLUMN)[0].endswith("tok/s · slow")
    speeds = _speed_cells(quants, quants.SPEED_COLUMN)
    assert all(speeds[i].endswith("· slow") for i in models)
    assert quants.recommended() is None and not any("Recommended" in n for n in _speed_cells(quants, 0))


@pytest.mark.unmeasured
def test_the_speed_probe_measures_this_computer_once_in_a_child_process(tmp_path: Path) -> None:
    """`hearth _speed`, as the window's SpeedProbe runs it: it leaves its figure in the cache."""
    paths = hearth_paths()
    assert cached_machine_speed(paths) is None
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "desktop", "_speed"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    measured = cached_machine_speed(paths)
    assert measured is not None and measured.measured and measured.cpu_bytes_per_s > 1e8
    assert "timed llama.cpp" in measured.note
