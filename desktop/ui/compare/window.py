"""The compare window: side by side, blind arena, speed, quality and results, each a tab."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QTabWidget, QWidget

from desktop.compare.results import CompareStore
from desktop.library.scan import LocalModel
from desktop.paths import HearthPaths
from desktop.settings import SettingsStore
from desktop.ui.compare.arena import ArenaTab
from desktop.ui.compare.results import ResultsTab
from desktop.ui.compare.runs import QualityTab, SpeedTab
from desktop.ui.compare.side import SideBySideTab
from desktop.ui.library.quantize_dialog import QuantizeDialog

GEOMETRY_KEY = "compare_window_geometry"


class CompareWindow(QMainWindow):
    library_changed = Signal()  # a quant was made: the library should be scanned again

    def __init__(
        self, paths: HearthPaths, settings: SettingsStore, models_dir: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare models — Hearth")
        self._settings = settings
        self._models_dir = models_dir
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
        self.setCentralWidget(self.tabs)
        menu = self.menuBar().addMenu("&Compare")
        self.quant_action = QAction("&Make a quant…", self, shortcut=QKeySequence("Ctrl+Shift+Q"))
        self.quant_action.setToolTip(
            "Another quantisation of an F16, BF16 or Q8_0 model, made on this machine"
        )
        close = QAction("&Close", self, shortcut=QKeySequence(QKeySequence.StandardKey.Close))
        menu.addAction(self.quant_action)
        menu.addSeparator()
        menu.addAction(close)
        for number in range(self.tabs.count()):
            switch = QAction(self, shortcut=QKeySequence(f"Ctrl+{number + 1}"))
            switch.triggered.connect(lambda _=False, n=number: self.tabs.setCurrentIndex(n))
            self.addAction(switch)

        close.triggered.connect(self.close)
        self.quant_action.triggered.connect(lambda: self.make_quant())
        self.speed.run_saved.connect(self.results.refresh)
        self.quality.run_saved.connect(self.results.refresh)
        self.tabs.currentChanged.connect(
            lambda _i: self.results.refresh() if self.tabs.currentWidget() is self.results else None
        )

        geometry = settings.current.extra.get(GEOMETRY_KEY)
        if not (isinstance(geometry, str) and self.restoreGeometry(QByteArray.fromBase64(geometry.encode()))):
            self.resize(1200, 780)

    def set_library(self, models: list[LocalModel]) -> None:
        self._models = [m for m in models if m.ok]
        for tab in (self.side, self.arena, self.speed, self.quality):
            tab.set_library(self._models)

    def make_quant(self, chosen: LocalModel | None = None) -> QuantizeDialog:
        dialog = QuantizeDialog(self._models, self._models_dir, chosen, self)
        dialog.made.connect(lambda _path: self.library_changed.emit())
        dialog.open()
        return dialog

    def closeEvent(self, event: QCloseEvent) -> None:
        self._settings.current.extra[GEOMETRY_KEY] = bytes(self.saveGeometry().toBase64().data()).decode()
        for runner in (self.side.runner, self.arena.runner):
            runner.stop()
            runner.shutdown()
        self.speed.shutdown()
        self.quality.shutdown()
        self.store.close()
        super().closeEvent(event)
