"""The Compare page: side by side, blind arena, speed, quality and results, each a tab."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from desktop.compare.results import CompareStore
from desktop.library.scan import LocalModel
from desktop.paths import HearthPaths
from desktop.settings import SettingsStore
from desktop.ui.compare.arena import ArenaTab
from desktop.ui.compare.results import ResultsTab
from desktop.ui.compare.runs import QualityTab, SpeedTab
from desktop.ui.compare.side import SideBySideTab


class ComparePage(QWidget):
    def __init__(self, paths: HearthPaths, settings: SettingsStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._models: list[LocalModel] = []
        self.store = CompareStore(paths.compare_db)
        self.side = SideBySideTab(settings, self.store)
        self.arena = ArenaTab(settings, self.store)
        self.speed = SpeedTab(self.store)
        self.quality = QualityTab(self.store)
        self.results = ResultsTab(self.store)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Compare tools")
        self.tabs.setDocumentMode(True)
        for tab, title, tip in (
            (self.side, "Side by side", "One prompt, two to four models, replies in columns"),
            (self.arena, "Blind arena", "Two hidden models answer; vote, then see which was which"),
            (self.speed, "Speed", "Prompt and generation speed, first token, load time and memory"),
            (self.quality, "Quality", "Perplexity and KL divergence of quants against a reference"),
            (self.results, "Results", "Every run kept, charted and exported"),
        ):
            index = self.tabs.addTab(tab, title)
            self.tabs.setTabToolTip(index, tip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.speed.run_saved.connect(self.results.refresh)
        self.quality.run_saved.connect(self.results.refresh)
        self.tabs.currentChanged.connect(
            lambda _i: self.results.refresh() if self.tabs.currentWidget() is self.results else None
        )

    def set_library(self, models: list[LocalModel]) -> None:
        self._models = [m for m in models if m.ok]
        for tab in (self.side, self.arena, self.speed, self.quality):
            tab.set_library(self._models)

    def shutdown(self) -> None:
        """Stops every run and closes the comparison history: the window is closing."""
        for runner in (self.side.runner, self.arena.runner):
            runner.stop()
            runner.shutdown()
        self.speed.shutdown()
        self.quality.shutdown()
        self.store.close()
