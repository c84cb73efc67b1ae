"""Models served to other programs: loaded on demand, one reply at a time per model, unloaded
when idle. Qt-free and blocking (a front end runs each request on a thread of its own).

Each model has a slot: its worker (an EngineClient, so a crash ends the worker, not the
server) and a fair queue of turns. The first request in a slot's queue loads the model while
the others wait behind it, so two requests never load one model twice. Loads are serialised
across slots too, so each load's memory check sees what the one before it took.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from desktop.app.served_models import ModelDirectory
from desktop.app.shared_engine import SharedEngine, SharedReplyFailed, shared_reply
from desktop.app.turn_queue import TurnCancelled, TurnQueue
from desktop.engine.client import EngineClient, EngineFailure
from desktop.engine.protocol import (
    ChatMessage,
    Embeddings,
    EngineError,
    EngineEvent,
    GenerationStats,
    LoadOptions,
    ModelLoaded,
    Sampling,
    TokenEvent,
)
from desktop.gguf.fit import TIGHT_SHARE, available_memory_now
from desktop.library.scan import LocalModel
from desktop.settings import Settings
from desktop.units import format_bytes

LOAD_TIMEOUT_S = 300.0
SILENCE_TIMEOUT_S = 300.0  # a long prompt on a slow machine is silent until its first token
POLL_S = 0.1  # how soon a cancel (a client gone) reaches the engine: by the next token at most
REAPER_INTERVAL_S = 1.0


class ServiceStopping(Exception):
    """The server is shutting down: no new request is taken."""


class ModelWontFit(Exception):
    """The model does not fit in memory next to the models loaded and busy; says why."""


class GenerationFailed(Exception):
    """The engine refused or failed the request; ``kind`` as the engine's EngineError has it
    ("load", "context", "generate", "crashed")."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class GenerationRequest:
    model: LocalModel
    messages: list[ChatMessage]
    sampling: Sampling
    mode: str = "chat"  # "complete": the text continued as is, no template (/v1/completions)
    n_ctx: int = 0  # a context size other than the settings' (Ollama's num_ctx); 0: the settings'
    keep_alive_s: float | None = None  # idle time after this request; None: the server's
    stop: tuple[str, ...] = ()  # the caller's stop strings


@dataclass(frozen=True)
class LoadedModel:
    model: LocalModel
    info: ModelLoaded
    expires_at: float | None  # wall-clock time of its idle unload; None: kept loaded


@dataclass
class _Slot:
    model: LocalModel
    turns: TurnQueue
    keep_alive_s: float
    client: EngineClient = field(default_factory=EngineClient)
    info: ModelLoaded | None = None
    n_ctx_asked: int = 0
    last_used: float = field(default_factory=time.monotonic)

    def unload(self, *, wait: bool) -> None:
        self.client.shutdown(wait=wait)
        self.info = None


class ModelService:
    def __init__(
        self,
        settings: Settings,
        directory: ModelDirectory,
        *,
        queue_length: int,
        idle_unload_s: float = math.inf,
        available_memory: Callable[[], int | None] = available_memory_now,
        shared: SharedEngine | None = None,
    ) -> None:
        self.directory = directory
        # The window's worker, for the model the window has loaded (desktop/app/shared_engine.py).
        self._shared = shared
        self._shared_turns = TurnQueue(queue_length)
        self._settings = settings
        self._queue_length = queue_length
        self._idle_unload_s = idle_unload_s
        self._available_memory = available_memory
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()  # the slots table
        self._load_lock = threading.Lock()  # one load at a time in the process
        self._active: set[threading.Event] = set()
        self._stopping = threading.Event()
        self._reaper = threading.Thread(target=self._reap_idle, daemon=True, name="idle-unload")
        self._reaper.start()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def in_flight(self) -> int:
        with self._lock:
            return len(self._active)

    def _slot(self, model: LocalModel) -> _Slot:
        with self._lock:
            if self._stopping.is_set():
                raise ServiceStopping("the server is stopping")
            slot = self._slots.get(model.id)
            if slot is None:
                slot = _Slot(model, TurnQueue(self._queue_length), self._idle_unload_s)
                self._slots[model.id] = slot
            return slot

    def waiting(self, model: LocalModel) -> int:
        """Requests waiting for their turn with ``model`` (the one answering not counted)."""
        with self._lock:
            slot = self._slots.get(model.id)
        return slot.turns.waiting if slot is not None else 0

    def loaded(self) -> list[LoadedModel]:
        now, wall = time.monotonic(), time.time()
        with self._lock:
            slots = list(self._slots.values())
        rows = []
        for slot in slots:
            if slot.info is None:
                continue
            left = slot.last_used + slot.keep_alive_s - now
            expires = None if math.isinf(left) else wall + max(0.0, left)
            rows.append(LoadedModel(slot.model, slot.info, expires))
        shared = self._shared.loaded() if self._shared is not None else None
        if shared is not None and not any(r.info.model_path == shared.model_path for r in rows):
            found = self.directory.by_path(shared.model_path)
            if found is not None:
                rows.append(LoadedModel(found, shared, None))  # the window's: kept while it is loaded
        return rows

    # Loading

    def preload(self, model: LocalModel, keep_alive_s: float | None = None) -> ModelLoaded:
        """Blocking: ``model`` loaded, then kept ``keep_alive_s`` idle (None: as before, or the
        server's idle time); GenerationFailed or ModelWontFit say why not."""
        slot = self._slot(model)
        with slot.turns.turn(threading.Event()):
            loaded = self._ensure_loaded(slot, 0)
            if keep_alive_s is not None:
                slot.keep_alive_s = keep_alive_s
            return loaded

    def unload(self, model: LocalModel) -> bool:
        """Unloads ``model`` once its queue is done (Ollama's keep_alive 0); whether it was loaded."""
        slot = self._slot(model)
        with slot.turns.turn(threading.Event()):
            was_loaded = slot.info is not None
            slot.unload(wait=False)
        return was_loaded

    def _ensure_loaded(self, slot: _Slot, n_ctx: int) -> ModelLoaded:
        """Called holding the slot's turn."""
        if slot.info is not None and slot.client.loaded is not None and n_ctx in (0, slot.n_ctx_asked):
            return slot.info
        with self._load_lock:
            if slot.info is not None:
                slot.unload(wait=True)  # another context size: a fresh worker, as the window does
            self._make_room(slot, n_ctx)
            options = LoadOptions.from_settings(self._settings, str(slot.model.path))
            if n_ctx:
                options = replace(options, n_ctx=n_ctx)
            slot.client.load(options)
            try:
                slot.info = slot.client.wait_loaded(LOAD_TIMEOUT_S)
            except EngineFailure as exc:
                slot.unload(wait=False)
                raise GenerationFailed(f"{slot.model.name} could not be loaded: {exc}", "load") from exc
            slot.n_ctx_asked = n_ctx
            slot.last_used = time.monotonic()
            return slot.info

    def _make_room(self, slot: _Slot, n_ctx: int) -> None:
        """Unloads idle models, least recently used first, until ``slot``'s fits; ModelWontFit
        when it still does not fit next to busy ones. Alone, a model is left to the engine to try."""
        needed = slot.model.memory_needed(n_ctx or self._settings.load_context or None)
        with self._lock:
            others = sorted(
                (s for s in self._slots.values() if s is not slot and s.info is not None),
                key=lambda s: s.last_used,
            )
        for other in others:
            available = self._available_memory()
            if available is None or needed <= available * TIGHT_SHARE:
                return
            if other.turns.try_acquire():
                try:
                    other.unload(wait=True)  # its memory back before measuring again
                finally:
                    other.turns.release()
        busy = [s for s in others if s.info is not None]
        available = self._available_memory()
        if busy and available is not None and needed > available * TIGHT_SHARE:
            names = ", ".join(s.model.name for s in busy)
            raise ModelWontFit(
                f"{slot.model.name} needs about {format_bytes(needed)} of memory and "
                f"{format_bytes(available)} is free next to {names}, which "
                f"{'is' if len(busy) == 1 else 'are'} answering other requests. Try again when "
                "they are done, or unload them (Ollama's keep_alive 0)."
            )

    # Generating

    def generate(
        self, request: GenerationRequest, cancel: threading.Event
    ) -> Iterator[ModelLoaded | TokenEvent | GenerationStats]:
        """Blocking: waits for the model's turn (QueueFull at once if its queue is full), loads it
        if needed and yields its ModelLoaded, then the reply's tokens and its stats. Setting
        ``cancel`` stops the reply at the next token (its stats say "cancelled")."""
        if self._is_shared(request.model):
            yield from self._shared_generate(request, cancel)
            return
        slot = self._slot(request.model)
        with self._lock:
            self._active.add(cancel)
        try:
            with slot.turns.turn(cancel):
                try:
                    yield self._ensure_loaded(slot, request.n_ctx)
                    yield from self._reply(slot, request, cancel)
                finally:
                    slot.last_used = time.monotonic()
                    if request.keep_alive_s is not None:
                        slot.keep_alive_s = request.keep_alive_s
                    if slot.keep_alive_s <= 0:
                        slot.unload(wait=False)
        finally:
            with self._lock:
                self._active.discard(cancel)

    def embed(
        self, model: LocalModel, texts: list[str], cancel: threading.Event, *, truncate: bool = True
    ) -> tuple[ModelLoaded, Embeddings]:
        """Blocking: the texts' embeddings, in the model's turn (loaded if needed). A model the
        window has loaded is loaded here too: its weights are the same mapped file, and the
        window's worker is left to its chat."""
        slot = self._slot(model)
        with self._lock:
            self._active.add(cancel)
        try:
            with slot.turns.turn(cancel):
                try:
                    info = self._ensure_loaded(slot, 0)
                    return info, self._embeddings(slot, texts, truncate, cancel)
                finally:
                    slot.last_used = time.monotonic()
        finally:
            with self._lock:
                self._active.discard(cancel)

    def _embeddings(
        self, slot: _Slot, texts: list[str], truncate: bool, cancel: threading.Event
    ) -> Embeddings:
        request_id = slot.client.embed(texts, truncate=truncate)
        for event in self._answers(slot, request_id, cancel, "embed"):
            if isinstance(event, Embeddings):
                return event
        raise GenerationFailed("The engine ended without the embeddings.", "embed")

    def _is_shared(self, model: LocalModel) -> bool:
        info = self._shared.loaded() if self._shared is not None else None
        return info is not None and info.model_path == str(model.path)

    def _shared_generate(
        self, request: GenerationRequest, cancel: threading.Event
    ) -> Iterator[ModelLoaded | TokenEvent | GenerationStats]:
        """A request for the window's model, answered by the window's worker at its context."""
        assert self._shared is not None
        if self._stopping.is_set():
            raise ServiceStopping("the server is stopping")
        self._drop_copy(request.model)
        with self._lock:
            self._active.add(cancel)
        try:
            yield from shared_reply(
                self._shared,
                self._shared_turns,
                request.messages,
                request.sampling,
                mode=request.mode,
                stop=request.stop,
                cancel=cancel,
            )
        except SharedReplyFailed as exc:
            raise GenerationFailed(str(exc), exc.kind) from exc
        finally:
            with self._lock:
                self._active.discard(cancel)

    def _drop_copy(self, model: LocalModel) -> None:
        """The server's own copy of a model the window has since loaded, unloaded when idle."""
        with self._lock:
            slot = self._slots.get(model.id)
        if slot is not None and slot.info is not None and slot.turns.try_acquire():
            try:
                slot.unload(wait=False)
            finally:
                slot.turns.release()

    def _reply(
        self, slot: _Slot, request: GenerationRequest, cancel: threading.Event
    ) -> Iterator[TokenEvent | GenerationStats]:
        request_id = slot.client.chat(
            request.messages, request.sampling, context_policy="stop", mode=request.mode, stop=request.stop
        )
        for event in self._answers(slot, request_id, cancel, "generate"):
            if isinstance(event, TokenEvent):
                yield event
            elif isinstance(event, GenerationStats):
                yield event
                return

    def _answers(
        self, slot: _Slot, request_id: str, cancel: threading.Event, doing: str
    ) -> Iterator[EngineEvent]:
        """The worker's events for one request, until the caller has what it waits for; cancels
        it when ``cancel`` is set, and raises GenerationFailed for its error or a long silence."""
        client = slot.client
        cancel_sent = False
        silent = 0.0
        while True:
            if cancel.is_set() and not cancel_sent:
                client.cancel(request_id)
                cancel_sent = True
            event = client.next_event(POLL_S)
            if event is None:
                silent += POLL_S
                if silent >= SILENCE_TIMEOUT_S:
                    slot.unload(wait=False)  # a worker that stopped answering is not trusted again
                    raise GenerationFailed("The engine did not answer in time.", doing)
                continue
            silent = 0.0
            if isinstance(event, EngineError) and event.request_id in (request_id, None):
                if event.kind == "crashed":
                    slot.info = None  # the next request loads it again in a new worker
                if event.kind == "cancelled":
                    raise TurnCancelled
                raise GenerationFailed(event.message, event.kind)
            if getattr(event, "request_id", None) == request_id:
                yield event

    # Ending

    def _reap_idle(self) -> None:
        while not self._stopping.wait(REAPER_INTERVAL_S):
            now = time.monotonic()
            with self._lock:
                slots = list(self._slots.values())
            for slot in slots:
                if slot.info is None or now - slot.last_used < slot.keep_alive_s:
                    continue
                if slot.turns.try_acquire():
                    try:
                        slot.unload(wait=False)
                    finally:
                        slot.turns.release()

    def cancel_all(self) -> int:
        """Takes no new request and cancels those in flight (each ends at its next token, its
        stats saying "cancelled"); returns how many there were. Does not wait."""
        with self._lock:
            self._stopping.set()
            active = list(self._active)
        for cancel in active:
            cancel.set()
        return len(active)

    def close(self, grace_s: float = 5.0) -> None:
        """``cancel_all``, a moment for the replies to end, then every worker ended."""
        self.cancel_all()
        deadline = time.monotonic() + grace_s
        while self.in_flight() and time.monotonic() < deadline:
            time.sleep(POLL_S)
        with self._lock:
            slots = list(self._slots.values())
        for slot in slots:
            slot.unload(wait=True)
