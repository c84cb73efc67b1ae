"""One engine, many callers: each waits for its turn in arrival order, in a queue of bounded
length. A worker generates one reply at a time, so a caller holds the turn for one whole reply."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

POLL_S = 0.1  # how often a waiting caller looks at its cancel flag


class QueueFull(Exception):
    """The queue already holds as many waiting callers as it may."""

    def __init__(self, waiting: int) -> None:
        super().__init__(f"{waiting} requests are already waiting for this model; try again shortly")
        self.waiting = waiting


class TurnCancelled(Exception):
    """The caller gave up (its client went away, or the server is stopping) before its turn."""


class TurnQueue:
    def __init__(self, max_waiting: int) -> None:
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._waiting: deque[object] = deque()
        self._busy = False

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def idle(self) -> bool:
        with self._cond:
            return not self._busy and not self._waiting

    def acquire(self, cancel: threading.Event) -> None:
        """Waits for this caller's turn. Raises QueueFull at once when the queue is full,
        TurnCancelled when ``cancel`` is set while waiting."""
        ticket = object()
        with self._cond:
            if (self._busy or self._waiting) and len(self._waiting) >= self.max_waiting:
                raise QueueFull(len(self._waiting))
            self._waiting.append(ticket)
            try:
                while self._busy or self._waiting[0] is not ticket:
                    if cancel.is_set():
                        raise TurnCancelled
                    self._cond.wait(POLL_S)
            except BaseException:
                self._waiting.remove(ticket)
                self._cond.notify_all()
                raise
            self._waiting.popleft()
            self._busy = True

    def try_acquire(self) -> bool:
        """The turn if nobody holds it or waits for it (the idle unloader takes it so)."""
        with self._cond:
            if self._busy or self._waiting:
                return False
            self._busy = True
            return True

    def release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    @contextmanager
    def turn(self, cancel: threading.Event) -> Iterator[None]:
        """Held for one reply (see ``acquire``)."""
        self.acquire(cancel)
        try:
            yield
        finally:
            self.release()
