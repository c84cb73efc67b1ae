"""huggingface_hub's HTTP client with the limits of ``desktop.hub.limits`` enforced on every answer.

Done with the client's own event hooks, so it holds for every transport (proxies included):
the request hook gives the request timeouts no longer than the deadline left and asks for
no encoding Hearth cannot bound; the response hook wraps the body in a stream that counts
bytes after decompression and checks the clock at every piece. A compressed body is inflated
here, in bounded steps, never by the client, so a gzip bomb stops at the cap, not at the
memory's end. Imported by ``load_huggingface_hub`` only: it needs httpx, which the window's
start does not.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Iterator

import httpx2

from desktop.hub.limits import (
    CONNECT_TIMEOUT_S,
    STALL_TIMEOUT_S,
    AnswerTooLarge,
    AnswerTooSlow,
    Limits,
    ServerMisbehaved,
    current_limits,
)
from desktop.safe_text import printable

_LIMITS_KEY = "hearth.limits"
_DECODABLE = {"gzip", "x-gzip", "deflate"}


def install() -> None:
    """Makes huggingface_hub build its shared client with Hearth's limits (once, at import)."""
    from huggingface_hub import set_client_factory

    set_client_factory(guarded_client)


def guarded_client() -> httpx2.Client:
    # huggingface_hub's own factory, for its offline check and request ids; ours come after.
    from huggingface_hub.utils._http import default_client_factory

    client = default_client_factory()
    hooks = client.event_hooks
    client.event_hooks = {
        "request": [*hooks["request"], _on_request],
        "response": [*hooks["response"], _on_response],
    }
    return client


def _on_request(request: httpx2.Request) -> None:
    limits = current_limits()
    left = math.inf
    if limits.deadline is not None:
        left = limits.deadline - time.monotonic()
        if left <= 0:
            raise AnswerTooSlow(limits.seconds)
    given = request.extensions.get("timeout") or {}

    def bounded(key: str, most: float) -> float:
        value = given.get(key)
        return min(value if value is not None else math.inf, most, left)

    request.extensions = {
        **request.extensions,
        "timeout": {
            "connect": bounded("connect", CONNECT_TIMEOUT_S),
            "read": bounded("read", STALL_TIMEOUT_S),
            "write": bounded("write", STALL_TIMEOUT_S),
            "pool": bounded("pool", CONNECT_TIMEOUT_S),
        },
        _LIMITS_KEY: limits,
    }
    if limits.as_is or request.headers.get("Accept-Encoding", "").strip() == "identity":
        request.headers["Accept-Encoding"] = "identity"
    else:
        request.headers["Accept-Encoding"] = "gzip, deflate"  # what _LimitedStream can inflate


def _on_response(response: httpx2.Response) -> None:
    request = response.request
    limits: Limits = request.extensions.get(_LIMITS_KEY) or current_limits()
    encodings = [e.strip().lower() for e in response.headers.get_list("Content-Encoding", split_commas=True)]
    encodings = [e for e in encodings if e and e != "identity"]
    decoder = None
    if encodings:
        shown = printable(", ".join(encodings))
        if request.headers.get("Accept-Encoding") == "identity":
            raise ServerMisbehaved(
                f"The Hub server sent a compressed answer ({shown}) although Hearth asked for the "
                "file as it is, so it was refused and nothing more was written. The server is "
                "misbehaving; try again later."
            )
        if len(encodings) > 1 or encodings[0] not in _DECODABLE:
            raise ServerMisbehaved(
                f"The Hub server answered in an encoding Hearth did not ask for ({shown}). "
                "The server is misbehaving; try again later."
            )
        # Inflated here, in bounded steps: the client must not inflate it again.
        del response.headers["Content-Encoding"]
        if "Content-Length" in response.headers:
            del response.headers["Content-Length"]
        decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or zlib header, found by zlib
    assert isinstance(response.stream, httpx2.SyncByteStream)  # the shared client is synchronous
    response.stream = _LimitedStream(response.stream, limits, decoder)


class _LimitedStream(httpx2.SyncByteStream):
    def __init__(
        self, inner: httpx2.SyncByteStream, limits: Limits, decoder: zlib._Decompress | None
    ) -> None:
        self._inner = inner
        self._limits = limits
        self._decoder = decoder
        self._seen = 0

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                self._check_clock()
                piece = self._inflate(chunk) if self._decoder is not None else self._count(chunk)
                if piece:
                    yield piece
        except httpx2.TimeoutException:
            self._check_clock()  # the deadline's end, said as such; else a stall, which may be retried
            raise
        if self._decoder is not None:
            rest = self._count(self._decoder.flush())
            if rest:
                yield rest

    def _inflate(self, chunk: bytes) -> bytes:
        assert self._decoder is not None
        cap = self._limits.max_bytes
        pieces = []
        try:
            while chunk:
                room = 0 if cap is None else cap - self._seen + 1  # one past the cap shows it is exceeded
                pieces.append(self._count(self._decoder.decompress(chunk, room)))
                chunk = self._decoder.unconsumed_tail
        except zlib.error as exc:
            raise ServerMisbehaved(
                "The Hub server sent a compressed answer that does not decompress. "
                "The server is misbehaving; try again later."
            ) from exc
        return b"".join(pieces)

    def _count(self, piece: bytes) -> bytes:
        self._seen += len(piece)
        cap = self._limits.max_bytes
        if cap is not None and self._seen > cap:
            raise AnswerTooLarge(cap)
        return piece

    def _check_clock(self) -> None:
        deadline = self._limits.deadline
        if deadline is not None and time.monotonic() > deadline:
            raise AnswerTooSlow(self._limits.seconds)

    def close(self) -> None:
        self._inner.close()
