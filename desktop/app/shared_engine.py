"""The window's engine, lent to the server in the same process: requests for the model the
window has loaded are answered by the window's worker, so that model is in memory once.

A front end that owns an EngineHost (the window) provides a ``SharedEngine``; the serving core
(desktop/app/model_service.py) sends each request for that model through ``shared_reply``, one
at a time in a fair queue of its own, and waits while the window writes its own reply.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Protocol

from desktop.app.engine_host import LentReply
from desktop.app.turn_queue import TurnCancelled, TurnQueue
from desktop.engine.protocol import (
    ChatMessage,
    EngineError,
    EngineEvent,
    GenerationStats,
    ModelLoaded,
    Sampling,
    TokenEvent,
)

POLL_S = 0.1
SILENCE_TIMEOUT_S = 300.0  # as the serving core's own workers: a long prompt is silent a while


class SharedEngine(Protocol):
    """Called from the server's threads; the owner does the work on its own thread."""

    def loaded(self) -> ModelLoaded | None:
        """The model the owner has loaded and ready or busy; None while none is."""
        ...

    def lend(
        self, messages: list[ChatMessage], sampling: Sampling, *, mode: str, stop: tuple[str, ...]
    ) -> LentReply | None:
        """A reply started on the owner's worker; None while it is busy with its own."""
        ...

    def cancel(self, request_id: str) -> None: ...


class SharedReplyFailed(Exception):
    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def shared_reply(
    engine: SharedEngine,
    turns: TurnQueue,
    messages: list[ChatMessage],
    sampling: Sampling,
    *,
    mode: str,
    stop: tuple[str, ...],
    cancel: threading.Event,
) -> Iterator[ModelLoaded | TokenEvent | GenerationStats]:
    """The reply, in the shared engine's turn: its ModelLoaded, tokens and stats. Waits while
    the owner writes its own reply; SharedReplyFailed when the owner's model goes away."""
    with turns.turn(cancel):
        while True:
            info = engine.loaded()
            if info is None:
                raise SharedReplyFailed("The model was unloaded in the app; try again.", "unloaded")
            lent = engine.lend(messages, sampling, mode=mode, stop=stop)
            if lent is not None:
                break
            if cancel.wait(POLL_S):  # the person is chatting with it in the window: wait
                raise TurnCancelled
        yield info
        yield from _events(engine, lent, cancel)


def _events(
    engine: SharedEngine, lent: LentReply, cancel: threading.Event
) -> Iterator[TokenEvent | GenerationStats]:
    cancel_sent = False
    silent_since = time.monotonic()
    while True:
        if cancel.is_set() and not cancel_sent:
            engine.cancel(lent.request_id)
            cancel_sent = True
        try:
            event: EngineEvent = lent.events.get(timeout=POLL_S)
        except queue.Empty:
            if time.monotonic() - silent_since > SILENCE_TIMEOUT_S:
                raise SharedReplyFailed("The engine did not answer in time.", "generate") from None
            continue
        silent_since = time.monotonic()
        if isinstance(event, TokenEvent):
            yield event
        elif isinstance(event, GenerationStats):
            yield event
            return
        elif isinstance(event, EngineError):
            raise SharedReplyFailed(event.message, event.kind)
