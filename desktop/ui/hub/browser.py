"""Hub search, quant reports and model cards off the GUI thread, feeding the Hub item models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.app.machine_speed import cached_machine_speed
from desktop.engine.devices import (
    Device,
    available_memory_bytes,
    gpu_memory_bytes,
)
from desktop.engine.hardware import physical_cores
from desktop.gguf.fit import system_memory_bytes
from desktop.gguf.speed import MachineSpeed, rule_of_thumb
from desktop.hub.api import prepare_http
from desktop.hub.card import RepoCard, card_markdown, load_card
from desktop.hub.describe import describe_hub_error
from desktop.hub.errors import HubError
from desktop.hub.quants import QuantReport, quant_listing, with_header
from desktop.hub.search import SORT_KEYS, HubModel, SearchFilters, SortKey, search_models
from desktop.hub.starters import starters_for
from desktop.paths import hearth_paths
from desktop.ui.hub.models import HubResultsModel, QuantChoicesModel
from desktop.ui.shell.device_probe import DeviceProbe, SpeedProbe
from desktop.ui.shell.jobs import JobRunner

PAGE = 50
# huggingface_hub's import and HTTP client (about half a second of the interpreter lock),
# made ready once the window is up rather than while it is being built.
PREPARE_HTTP_DELAY_MS = 1500


@dataclass(frozen=True)
class SearchRequest:
    query: str = ""
    sort: SortKey = "downloads"
    author: str = ""
    tag_filters: tuple[str, ...] = ()
    narrowing: SearchFilters = field(default_factory=SearchFilters)
    limit: int = PAGE

    @property
    def is_empty(self) -> bool:
        return not (self.query.strip() or self.author.strip() or self.tag_filters)


class HubBrowser(QObject):
    busy_changed = Signal(bool)
    error = Signal(str, bool)  # message, offline
    results_shown = Signal(str)  # what the list shows, in words
    repo_opened = Signal(str)  # repo id whose quants are shown
    card_loaded = Signal(str, str)  # repo id, the card as Markdown
    devices_found = Signal(object)  # int: bytes a model can use (RAM plus free VRAM)
    machine_changed = Signal(object)  # MachineSpeed: how fast this computer reads weights

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.devices: list[Device] = []  # as the last probe found them (none before it ends)
        self.results = HubResultsModel(self)
        self.quants = QuantChoicesModel(self)
        self._jobs = JobRunner(self)
        self._search_serial = 0
        self._files_serial = 0
        self._request = SearchRequest()
        self._more_possible = False
        self._loading_more = False
        self.repo_id: str | None = None
        self._context_override: int | None = None
        self._prepare_timer = QTimer(self)
        self._prepare_timer.setSingleShot(True)
        self._prepare_timer.timeout.connect(self._prepare_http)
        self._prepare_timer.start(PREPARE_HTTP_DELAY_MS)
        # RAM until the device probe answers; then RAM plus the GPUs' free memory.
        self.available_bytes = system_memory_bytes()
        self.gpu_bytes = 0
        self._showing_starters = False
        self.device_probe = DeviceProbe(self)
        self.device_probe.found.connect(self._devices_found)
        # A rule of thumb until the speed probe has measured this computer (once, after the
        # device probe, in a child process); the cached figure from then on.
        self.machine: MachineSpeed = rule_of_thumb(physical_cores())
        self.quants.set_machine(self.machine)
        self.speed_probe = SpeedProbe(self)
        self.speed_probe.finished.connect(lambda: self.refresh_machine(probe=False))
        self.refresh_machine(probe=False)  # the cached figure, read off the GUI thread

    # Search

    def search(
        self,
        query: str,
        sort: str = "downloads",
        *,
        author: str = "",
        tag_filters: tuple[str, ...] = (),
        narrowing: SearchFilters | None = None,
    ) -> None:
        key: SortKey = next((k for k in SORT_KEYS if k == sort), "downloads")
        request = SearchRequest(query, key, author, tag_filters, narrowing or SearchFilters())
        if request.is_empty:
            self.show_starters()
            return
        self._run(request, append=False)

    def search_lineage(self, relation: str, base: str) -> None:
        """The base model's other children of one kind (GGUF builds, fine-tunes)."""
        self.search("", tag_filters=(f"base_model:{relation}:{base}",))

    def load_more(self) -> None:
        """The next page of the current search (the list grows as it is scrolled)."""
        if self._more_possible and not self._loading_more:
            self._run(replace(self._request, limit=self._request.limit + PAGE), append=True)

    def _prepare_http(self) -> None:
        self._jobs.start(prepare_http, lambda _r: None, lambda _e: None)

    def refresh_machine(self, probe: bool = True) -> None:
        """This computer's speed from the cache (calibrated by the speed runs kept so far);
        measured in a child process first when it never was and ``probe``."""
        paths, gpu = hearth_paths(), self.gpu_bytes
        # The cache file and the calibration's speed runs (SQLite) are read on a worker thread.
        self._jobs.start(
            lambda: cached_machine_speed(paths, gpu_free_bytes=gpu),
            partial(self._machine_read, probe, gpu),
            lambda _exc: None,  # unreadable: the rule of thumb stays
        )

    def _machine_read(self, probe: bool, gpu: int, known: MachineSpeed | None) -> None:
        if known is None and probe:
            self.speed_probe.start()
        machine = known or rule_of_thumb(physical_cores(), gpu)
        if machine != self.machine:
            self.machine = machine
            self.quants.set_machine(machine)
            self.machine_changed.emit(machine)
            if self._showing_starters:
                self.show_starters()

    def shutdown(self) -> None:
        self.speed_probe.shutdown()
        self.device_probe.shutdown()
        self._prepare_timer.stop()
        self._jobs.wait()

    def _devices_found(self, devices: list[Device]) -> None:
        self.devices = devices
        self.gpu_bytes = gpu_memory_bytes(devices)
        self.available_bytes = available_memory_bytes(devices)
        self.devices_found.emit(self.available_bytes)
        self.refresh_machine()
        if self._showing_starters:
            self.show_starters()
        report = self.quants.report
        if report is not None:
            self.quants.set_report(replace(report, available_bytes=self.available_bytes))

    def show_starters(self) -> None:
        """Recommended models for this machine's memory, from the list shipped with Hearth: no network."""
        self._search_serial += 1
        self._more_possible = False
        self._showing_starters = True
        available = self.available_bytes
        starters = [
            HubModel(
                s.repo_id,
                0,
                0,
                None,
                False,
                parameters=s.parameters,
                note=f"{s.note} ({s.licence})",
                starter_quant=s.quant,
                predicted_tg_tps=s.predicted_tg_tps(self.machine) if fit != "no" else None,
            )
            for s, fit in starters_for(available, gpu_bytes=self.gpu_bytes, machine=self.machine)
        ]
        self.results.set_records(starters)
        self.error.emit("", False)
        memory = f"{(available - self.gpu_bytes) / 1e9:.0f} GB of memory"
        if self.gpu_bytes:
            memory += f" and {self.gpu_bytes / 1e9:.0f} GB free on the GPU"
        self.results_shown.emit(f"Recommended for this computer ({memory}). Search to find more.")

    def _run(self, request: SearchRequest, *, append: bool) -> None:
        self._showing_starters = False
        self._search_serial += 1
        serial = self._search_serial
        self._request = request
        self._loading_more = append
        self.busy_changed.emit(True)

        def done(found: list[HubModel]) -> None:
            if serial != self._search_serial:  # a newer search wins
                return
            self._loading_more = False
            self._more_possible = len(found) >= request.limit
            kept = [m for m in found if request.narrowing.keep(m)]
            if append:
                known = {m.repo_id for m in self.results.records()}
                self.results.append_records([m for m in kept if m.repo_id not in known])
            else:
                self.results.set_records(kept)
            self.error.emit("", False)
            self.busy_changed.emit(False)
            hidden = len(found) - len(kept)
            more = " · scroll for more" if self._more_possible else ""
            note = f" ({hidden} hidden by the filters)" if hidden else ""
            self.results_shown.emit(f"{self.results.rowCount()} GGUF models{note}{more}")

        query_hub = partial(
            search_models,
            request.query,
            sort=request.sort,
            limit=request.limit,
            filters=request.tag_filters,
            author=request.author.strip() or None,
        )
        self._jobs.start(query_hub, done, self._failed(serial, True))

    # A repository

    def open_repo(self, repo_id: str) -> None:
        self._files_serial += 1
        serial = self._files_serial
        self.repo_id = repo_id
        self.quants.set_report(None)
        self.busy_changed.emit(True)

        def header_read(report: QuantReport) -> None:
            if serial == self._files_serial and self.quants.report is not None:
                # the rows stay; memory and fit now count the KV cache, and the kind is known
                self.quants.set_report(self.quants.report.with_header_of(report))
                self.repo_opened.emit(repo_id)

        def listed(report: QuantReport) -> None:
            if serial == self._files_serial:
                self.quants.set_report(replace(report, context_override=self._context_override))
                self.error.emit("", False)
                self.busy_changed.emit(False)
                self.repo_opened.emit(repo_id)
                self._jobs.start(partial(with_header, report), header_read, lambda _exc: None)

        listing_for = partial(quant_listing, repo_id, available_bytes=self.available_bytes)
        self._jobs.start(listing_for, listed, self._failed(serial, False))

        def card_done(card: RepoCard) -> None:
            if serial == self._files_serial:
                self.card_loaded.emit(repo_id, card_markdown(card))

        def card_failed(exc: BaseException) -> None:
            if serial == self._files_serial:
                self.card_loaded.emit(repo_id, f"*The model card could not be loaded: {exc}*")

        self._jobs.start(lambda: load_card(repo_id), card_done, card_failed)

    def set_context(self, n_ctx: int | None) -> None:
        """Recompute memory and fit for another context size (no network)."""
        self._context_override = n_ctx
        report = self.quants.report
        if report is not None:
            self.quants.set_report(replace(report, context_override=n_ctx))
            self.repo_opened.emit(report.repo_id)

    def _failed(self, serial: int, is_search: bool) -> Callable[[BaseException], None]:
        def report(exc: BaseException) -> None:
            current = self._search_serial if is_search else self._files_serial
            if serial != current:
                return
            self._loading_more = False
            err = exc if isinstance(exc, HubError) else describe_hub_error(exc)
            self.error.emit(str(err), err.offline)
            self.busy_changed.emit(False)

        return report
