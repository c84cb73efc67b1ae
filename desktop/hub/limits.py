"""How much of a Hub answer Hearth reads, and for how long: a size cap and an overall deadline.

huggingface_hub caps neither: a body that never ends, a gzip bomb or a one-byte-a-second
trickle would be read for ever, and its retry count starts again whenever bytes arrive. Every
request Hearth makes through it is checked against the limits in force on its thread (see
``desktop.hub.guarded_http``, which enforces them). An operation that may take several
requests (a search's pages, retries, a header read that grows) runs inside ``answer_limits``
so the deadline covers all of them; a download runs inside ``download_limits``: no deadline
(a big file takes hours), the body must come as it is, and the file's own size caps it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from desktop.hub.errors import HubError
from desktop.units import format_bytes

ANSWER_MAX_BYTES = 32 * 1024 * 1024  # a listing of a repo with thousands of files is a few MB
ANSWER_DEADLINE_S = 30.0
CONNECT_TIMEOUT_S = 10.0
STALL_TIMEOUT_S = 20.0  # the longest silence between two pieces of one answer


@dataclass(frozen=True)
class Limits:
    max_bytes: int | None  # of one answer's body, after decompression
    deadline: float | None  # time.monotonic() by which every request must be done
    seconds: float | None  # the deadline's length, for the message
    as_is: bool = False  # the body must not be compressed (a download)


_current: ContextVar[Limits | None] = ContextVar("hearth_hub_limits", default=None)


def _answer(seconds: float | None, max_bytes: int | None) -> Limits:
    seconds = ANSWER_DEADLINE_S if seconds is None else seconds
    return Limits(max_bytes or ANSWER_MAX_BYTES, time.monotonic() + seconds, seconds)


@contextmanager
def answer_limits(*, seconds: float | None = None, max_bytes: int | None = None) -> Iterator[Limits]:
    """Every request inside, retries included, is done within ``seconds`` and reads at most
    ``max_bytes`` of each answer (the module's defaults when not given)."""
    limits = _answer(seconds, max_bytes)
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)


@contextmanager
def download_limits() -> Iterator[Limits]:
    """A file's body: no deadline or cap here (the caller caps the file), never compressed."""
    limits = Limits(None, None, None, as_is=True)
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)


def current_limits() -> Limits:
    """The limits in force; a request outside any operation gets the defaults for itself."""
    return _current.get() or _answer(None, None)


class AnswerTooLarge(HubError):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            f"The Hub server sent an answer larger than {format_bytes(max_bytes)}, more than Hearth "
            "reads for one answer, so it was stopped. The server may be misbehaving; try again later."
        )


class AnswerTooSlow(HubError):
    def __init__(self, seconds: float | None) -> None:
        limit = f" in {seconds:g} s" if seconds is not None else ""
        super().__init__(
            f"The Hub server did not finish answering{limit}, so Hearth stopped waiting. "
            "It may be overloaded or misbehaving; try again later."
        )


class ServerMisbehaved(HubError):
    """An answer that breaks the rules of HTTP or of the Hub, named in the message."""
