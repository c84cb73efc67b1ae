"""The serving core's blocking generation, driven from the event loop: it runs on a thread of
its own and its events come back through an asyncio queue. Leaving the stream early (the client
went away) cancels the reply at its next token. What both APIs share about a reply lives here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from desktop.app.model_service import (
    GenerationFailed,
    GenerationRequest,
    ModelService,
    ModelWontFit,
    ServiceStopping,
)
from desktop.app.request_log import RequestLog
from desktop.app.served_models import UnknownModel
from desktop.app.turn_queue import QueueFull, TurnCancelled
from desktop.engine.json_schema import UnsupportedSchema
from desktop.engine.protocol import GenerationStats, ModelLoaded, TokenEvent
from desktop.engine.tool_calls import CHOICES, BadTools, check_tools
from desktop.library.scan import LocalModel
from desktop.server.errors import ApiError

RETRY_AFTER_S = 5  # a queue full of replies frees a place within seconds on a small model
DISCONNECT_POLL_S = 0.25
STOPPING_NOTE = "The server is stopping: this reply was cut short."

Event = ModelLoaded | TokenEvent | GenerationStats


class _End:
    pass


@dataclass
class _Failed:
    error: BaseException


def api_error(exc: BaseException) -> ApiError:
    """The HTTP answer for a failure of the serving core."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, UnknownModel):
        return ApiError(404, str(exc), param="model", code="model_not_found")
    if isinstance(exc, QueueFull):
        return ApiError(429, str(exc), headers={"Retry-After": str(RETRY_AFTER_S)})
    if isinstance(exc, ModelWontFit | ServiceStopping):
        return ApiError(503, str(exc))
    if isinstance(exc, GenerationFailed):
        if exc.kind == "context":
            return ApiError(400, str(exc), param="messages", code="context_length_exceeded")
        if exc.kind == "unloaded":  # the app's own model, unloaded there mid-reply: try again
            return ApiError(503, str(exc))
        return ApiError(500, str(exc))
    raise exc


async def library_models(request: Request) -> list[LocalModel]:
    """The models served, read off the event loop (a rescan reads the library)."""
    service: ModelService = request.app.state.service
    return await run_in_threadpool(service.directory.models)


async def find_model(request: Request, name: str) -> LocalModel:
    service: ModelService = request.app.state.service
    try:
        model = await run_in_threadpool(service.directory.find, name)
    except UnknownModel as exc:
        raise api_error(exc) from None
    log(request).model = model.id
    return model


def log(request: Request) -> RequestLog:
    record: RequestLog = request.scope["hearth.log"]
    return record


class Generation:
    """One reply in progress. ``start`` waits until the model is loaded and the first of the
    reply has come (so a refusal is still an HTTP status), then ``events`` gives the rest."""

    def __init__(self, request: Request, job: GenerationRequest) -> None:
        self._request = request
        self._service: ModelService = request.app.state.service
        self._job = job
        self.cancel = threading.Event()
        self._queue: asyncio.Queue[Event | _End | _Failed] = asyncio.Queue()
        self._first: Event | None = None
        self.loaded: ModelLoaded | None = None
        self.load_ms = 0.0
        self.started_at = time.monotonic()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def put(item: Event | _End | _Failed) -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody listens
                loop.call_soon_threadsafe(self._queue.put_nowait, item)

        def work() -> None:
            try:
                for item in self._service.generate(self._job, self.cancel):
                    put(item)
            except BaseException as exc:
                put(_Failed(exc))
            finally:
                put(_End())

        threading.Thread(target=work, daemon=True, name="generation").start()
        # Until the answer starts, a client that goes away (while queued, say) gives up its turn;
        # after, the streamed response notices by itself.
        watcher = asyncio.create_task(self._watch_disconnect())
        try:
            item = await self._next()
            if isinstance(item, ModelLoaded):
                self.loaded = item
                self.load_ms = (time.monotonic() - self.started_at) * 1000
                item = await self._next()
            self._first = item
        except BaseException:
            self.cancel.set()
            raise
        finally:
            watcher.cancel()

    async def _next(self) -> Event:
        item = await self._queue.get()
        if isinstance(item, _Failed):
            if isinstance(item.error, TurnCancelled):
                if self.stopped:
                    raise ApiError(503, STOPPING_NOTE)
                raise ApiError(499, "the client went away")
            raise api_error(item.error)
        if isinstance(item, _End):
            raise ApiError(500, "the engine ended the reply without its figures")
        return item

    async def events(self) -> AsyncIterator[TokenEvent | GenerationStats]:
        """The reply's tokens, then its stats; leaving early cancels it. A failure half-way is
        raised as ApiError (the status line has gone: the API says it inside the stream)."""
        try:
            item = self._first
            while item is not None:
                if isinstance(item, GenerationStats):
                    self._note(item)
                    yield item
                    return
                if isinstance(item, TokenEvent):
                    yield item
                item = await self._next()
        finally:
            self.cancel.set()

    async def stats(self) -> GenerationStats:
        """The whole reply (not streamed; its text is the stats'), cancelled if the client goes
        away meanwhile."""
        watcher = asyncio.create_task(self._watch_disconnect())
        try:
            async for item in self.events():
                if isinstance(item, GenerationStats):
                    if item.stop_reason == "cancelled" and self.stopped:
                        raise ApiError(503, STOPPING_NOTE)
                    return item
            raise ApiError(500, "the engine ended the reply without its figures")
        finally:
            watcher.cancel()

    async def _watch_disconnect(self) -> None:
        while not self.cancel.is_set():
            if await self._request.is_disconnected():
                self.cancel.set()
                return
            await asyncio.sleep(DISCONNECT_POLL_S)

    def _note(self, stats: GenerationStats) -> None:
        record = log(self._request)
        record.prompt_tokens = stats.prompt_tokens
        record.completion_tokens = stats.completion_tokens
        record.tps = stats.wall_tps or stats.gen_tps
        if stats.stop_reason == "cancelled":
            record.note = "cancelled: the server is stopping" if self.stopped else "cancelled"

    @property
    def stopped(self) -> bool:
        return self._service.stopping


def offered_tools(
    value: object, choice: str, parallel: bool, *, schema: str, schema_param: str
) -> dict[str, Any]:
    """A request's ``tools`` and ``tool_choice`` (one of CHOICES or a function's name) as
    Sampling's fields ({} for none), checked: a tool the grammar cannot hold to its parameters,
    a choice of a call without tools or of a tool not listed, or tools beside a JSON schema
    (sent as ``schema_param``) is a 400."""
    try:
        tools = check_tools(value) if value is not None else ()
    except BadTools as exc:
        raise ApiError(400, str(exc), param=exc.where) from None
    if not tools:
        if choice not in ("none", "auto"):
            raise ApiError(400, "'tool_choice' asks for a call, but 'tools' is empty", param="tool_choice")
        return {}
    if choice not in CHOICES and choice not in [t["function"]["name"] for t in tools]:
        raise ApiError(
            400, f"'tool_choice' names '{choice}', which is not one of 'tools'", param="tool_choice"
        )
    if schema:
        raise ApiError(
            400,
            f"'{schema_param}' and 'tools' together: a reply is held to a JSON schema or to tool "
            "calls, not both",
            param=schema_param,
        )
    return {"tools": json.dumps(tools), "tool_choice": choice, "parallel_tool_calls": parallel}


def schema_refused(exc: UnsupportedSchema, at: str) -> ApiError:
    """The 400 for a schema the grammar cannot enforce, naming the keyword under ``at``, the
    field the request sent the schema in."""
    param = at + exc.keyword.removeprefix("schema")
    return ApiError(400, str(exc).replace(f"'{exc.keyword}'", f"'{param}'"), param=param)


def finish_reason(stats: GenerationStats) -> str:
    if stats.tool_calls:
        return "tool_calls"
    return "length" if stats.stop_reason in ("length", "context") else "stop"


def unlimited_tokens() -> int:
    """No max_tokens: the reply may run to the end of the context, as OpenAI and Ollama allow."""
    return 1 << 30
