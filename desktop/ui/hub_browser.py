"""Hub search and file listing off the GUI thread, feeding the Hub item models."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from desktop.hub.card import RepoCard, card_markdown, load_card
from desktop.hub.errors import HubError, describe_hub_error
from desktop.hub.quants import QuantReport, quant_report
from desktop.hub.search import SORT_KEYS, HubModel, SortKey, search_models
from desktop.ui.hub_models import HubResultsModel, QuantChoicesModel
from desktop.ui.jobs import JobRunner


class HubBrowser(QObject):
    busy_changed = Signal(bool)
    error = Signal(str, bool)  # message, offline
    repo_opened = Signal(str)  # repo id whose quants are shown
    card_loaded = Signal(str, str)  # repo id, the card as Markdown

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.results = HubResultsModel(self)
        self.quants = QuantChoicesModel(self)
        self._jobs = JobRunner(self)
        self._search_serial = 0
        self._files_serial = 0
        self.repo_id: str | None = None

    def search(self, query: str, sort: str = "downloads", filters: tuple[str, ...] = ()) -> None:
        key: SortKey = next((k for k in SORT_KEYS if k == sort), "downloads")
        self._search_serial += 1
        serial = self._search_serial
        self.busy_changed.emit(True)

        def done(found: list[HubModel]) -> None:
            if serial == self._search_serial:  # a newer search wins
                self.results.set_records(found)
                self.error.emit("", False)
                self.busy_changed.emit(False)

        self._jobs.start(
            lambda: search_models(query, sort=key, limit=50, filters=filters),
            done,
            self._failed(serial, True),
        )

    def search_lineage(self, relation: str, base: str) -> None:
        """The base model's other children of one kind (GGUF builds, fine-tunes)."""
        self.search("", "downloads", (f"base_model:{relation}:{base}",))

    def open_repo(self, repo_id: str) -> None:
        self._files_serial += 1
        serial = self._files_serial
        self.repo_id = repo_id
        self.quants.set_report(None)
        self.busy_changed.emit(True)

        def done(report: QuantReport) -> None:
            if serial == self._files_serial:
                self.quants.set_report(report)
                self.error.emit("", False)
                self.busy_changed.emit(False)
                self.repo_opened.emit(repo_id)

        self._jobs.start(lambda: quant_report(repo_id), done, self._failed(serial, False))

        def card_done(card: RepoCard) -> None:
            if serial == self._files_serial:
                self.card_loaded.emit(repo_id, card_markdown(card))

        def card_failed(exc: BaseException) -> None:
            if serial == self._files_serial:
                self.card_loaded.emit(repo_id, f"*The model card could not be loaded: {exc}*")

        self._jobs.start(lambda: load_card(repo_id), card_done, card_failed)

    def _failed(self, serial: int, is_search: bool) -> Callable[[BaseException], None]:
        def report(exc: BaseException) -> None:
            current = self._search_serial if is_search else self._files_serial
            if serial != current:
                return
            err = exc if isinstance(exc, HubError) else describe_hub_error(exc)
            self.error.emit(str(err), err.offline)
            self.busy_changed.emit(False)

        return report

    def wait(self) -> None:
        self._jobs.wait()
