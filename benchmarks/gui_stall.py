"""The GUI thread while the Hub browser works: the longest the event loop went without a turn.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.gui_stall

Once the window has settled, a 1 ms timer ticks on the GUI thread while the window
searches the fake Hub (200 repos, each answer served at once), shows results, scrolls for
more and opens a repo's quantisations and card. Prints the largest gap between ticks (target: under 50 ms).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

from tests.fakehub import FakeHub


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["HEARTH_HOME"] = tempfile.mkdtemp(prefix="hearth-stall-")
    hub = FakeHub().start()
    os.environ["HF_ENDPOINT"] = hub.url
    for n in range(200):
        hub.add_repo(f"bench/model-{n:03d}-GGUF", downloads=n, gguf={"total": (n % 12 + 1) * 10**9})
        hub.add_file(f"bench/model-{n:03d}-GGUF", "model-Q4_K_M.gguf", b"GGUF" + bytes(1000))

    from PySide6.QtCore import QTimer

    from benchmarks.stall_probe import StallProbe
    from desktop.ui.shell.app import create_application, create_main_window

    app = create_application([])
    window = create_main_window()
    window.first_run.finish()  # past the first run: the window's pages
    window.show()
    discover = window.discover
    window.navigation.show_page(discover)

    probe = StallProbe()

    def search() -> None:
        discover.author.setText("bench")
        discover.search_button.click()

    steps: list[tuple[Callable[[], bool], Callable[[], object]]] = [
        (lambda: True, search),
        (lambda: window.hub.results.rowCount() == 50, window.hub.load_more),
        (lambda: window.hub.results.rowCount() == 100, lambda: discover.results_view.selectRow(0)),
        (lambda: window.hub.quants.rowCount() == 1 and bool(discover.card.toPlainText()), app.quit),
    ]

    def advance() -> None:
        if steps and steps[0][0]():
            _condition, action = steps.pop(0)
            action()

    driver = QTimer()
    driver.setInterval(5)
    driver.timeout.connect(advance)
    QTimer.singleShot(30_000, app.quit)  # a stuck step ends the run rather than hanging it

    def begin() -> None:
        # Measured from the moment the window has settled (its start-up library scan done).
        window.library.refreshed.disconnect(begin)
        probe.start()
        driver.start()

    window.library.refreshed.connect(begin)
    app.exec()
    probe.stop()
    driver.stop()
    finished = not steps
    window.close()
    hub.stop()
    print(f"{'completed' if finished else 'DID NOT COMPLETE'}: {len(probe.gaps)} ticks of a 1 ms timer")
    print(f"largest GUI stall {probe.largest_ms} ms (target < 50); 99th percentile {probe.p99_ms} ms")


if __name__ == "__main__":
    main()
