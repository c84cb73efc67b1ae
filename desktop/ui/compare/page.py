"""The Compare page: side by side, blind arena, speed, quality and results, each a tab, beside
one model list that every tab uses (each says beneath it how many models it takes)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QTabWidget, QWidget

from desktop.compare.results import CompareStore
from desktop.library.scan import LocalModel
from desktop.paths import HearthPaths
from desktop.settings import SettingsStore
from desktop.ui.compare.arena import ArenaTab
from desktop.ui.compare.columns import ModelChecklist, checklist_pane
from desktop.ui.compare.results import ResultsTab
from desktop.ui.compare.runs import QualityTab, SpeedTab
from desktop.ui.compare.side import SideBySideTab


class ComparePage(QWidget):
    def __init__(self, paths: HearthPaths, settings: SettingsStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._models: list[LocalModel] = []
        self.store = CompareStore(paths.compare_db)
        self.models = ModelChecklist("Models to compare")
        self.needs = QLabel()
        self.needs.setAccessibleName("What this tab takes")
        self.side = SideBySideTab(settings, self.store, self.models)
        self.arena = ArenaTab(settings, self.store, self.models)
        self.speed = SpeedTab(self.store, self.models)
        self.quality = QualityTab(self.store, self.models)
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
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(checklist_pane(self.models, self.needs))
        layout.addWidget(self.tabs, 1)
        self.speed.run_saved.connect(self.results.refresh)
        self.quality.run_saved.connect(self.results.refresh)
        self.tabs.currentChanged.connect(self._tab_changed)
        self._tab_changed()

    def _tab_changed(self) -> None:
        tab = self.tabs.currentWidget()
        if tab is self.results:
            self.results.refresh()
        self.needs.setText(str(getattr(tab, "needs", "")))

    def set_library(self, models: list[LocalModel]) -> None:
        self._models = [m for m in models if m.ok]
        self.quality.set_library(self._models)  # its reference first: checking suggests one
        self.models.set_models(self._models)

    def shutdown(self) -> None:
        """Stops every run and closes the comparison history: the window is closing."""
        for runner in (self.side.runner, self.arena.runner):
            runner.stop()
            runner.shutdown()
        self.speed.shutdown()
        self.quality.shutdown()
        self.store.close()
