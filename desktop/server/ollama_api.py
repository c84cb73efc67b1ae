"""Ollama's API over the serving core: /api/tags, /api/version, /api/ps, /api/show, /api/chat,
/api/generate. Names are the library ids (``:latest`` accepted); times are in nanoseconds."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from desktop import __version__
from desktop.app.model_service import GenerationRequest, ModelService
from desktop.engine.json_schema import ANY_OBJECT, UnsupportedSchema, parse_schema
from desktop.engine.protocol import ChatMessage, GenerationStats, Sampling, ToolCall
from desktop.gguf.reasoning import ReasoningStream, split_reasoning
from desktop.library.scan import LocalModel
from desktop.server.errors import ApiError
from desktop.server.generation import (
    STOPPING_NOTE,
    Generation,
    api_error,
    find_model,
    library_models,
    offered_tools,
    schema_refused,
    unlimited_tokens,
)
from desktop.server.request_body import Fields, json_body
from desktop.units import format_count

# The Ollama API level these routes follow; clients compare it to enable features, so it is
# Ollama's numbering, not Hearth's (which is given beside it).
OLLAMA_API_VERSION = "0.6.0"
ROLES = ("system", "user", "assistant", "tool")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def _modified(model: LocalModel) -> str:
    try:
        return _iso(model.path.stat().st_mtime)
    except OSError:
        return _iso(0)


def _details(model: LocalModel) -> dict[str, Any]:
    family = model.architecture or ""
    return {
        "parent_model": "",
        "format": "gguf",
        "family": family,
        "families": [family] if family else None,
        "parameter_size": format_count(model.parameters) if model.parameters else "",
        "quantization_level": model.quant or "",
    }


def _entry(model: LocalModel) -> dict[str, Any]:
    return {
        "name": model.id,
        "model": model.id,
        "modified_at": _modified(model),
        "size": model.size_bytes,
        "digest": model.id,
        "details": _details(model),
    }


async def tags(request: Request) -> Response:
    return JSONResponse({"models": [_entry(m) for m in await library_models(request)]})


async def version(_request: Request) -> Response:
    return JSONResponse({"version": OLLAMA_API_VERSION, "hearth": __version__})


async def running(request: Request) -> Response:
    service: ModelService = request.app.state.service
    rows = []
    for loaded in service.loaded():
        expires = loaded.expires_at if loaded.expires_at is not None else time.time() + 10 * 365 * 86400
        rows.append(
            _entry(loaded.model)
            | {
                "expires_at": _iso(expires),
                "size_vram": 0 if loaded.info.gpu_layers == 0 else loaded.model.size_bytes,
                "context_length": loaded.info.n_ctx,
            }
        )
    return JSONResponse({"models": rows})


async def show(request: Request) -> Response:
    body = await json_body(request, request.app.state.config.max_body_bytes)
    name = body.string("model") or body.string("name")
    if not name:
        raise ApiError(400, "'model' is required", param="model")
    model = await find_model(request, name)
    architecture = model.architecture or "unknown"
    info: dict[str, Any] = {"general.architecture": architecture, "general.name": model.name}
    if model.parameters:
        info["general.parameter_count"] = model.parameters
    if model.context_length:
        info[f"{architecture}.context_length"] = model.context_length
    return JSONResponse(
        {
            "license": "",
            "modelfile": f"# Served by Hearth from {model.name}\n",
            "parameters": "",
            "template": "",
            "details": _details(model),
            "model_info": info,
            "capabilities": ["completion"],
            "modified_at": _modified(model),
        }
    )


def keep_alive_seconds(value: object) -> float | None:
    """Ollama's keep_alive: seconds, or a Go duration ("5m", "1h30m"); negative keeps it loaded."""
    if value is None:
        return None
    bad = ApiError(
        400, "'keep_alive' must be a number of seconds or a duration such as '5m'", param="keep_alive"
    )
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise bad
    if isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            sign, text = (-1.0, text[1:]) if text.startswith("-") else (1.0, text)
            parts = _DURATION.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise bad from None
            seconds = sign * sum(float(n) * _UNIT_S[u] for n, u in parts)
    else:
        seconds = float(value)
    return math.inf if seconds < 0 else seconds


def _options(body: Fields) -> tuple[Sampling, int, tuple[str, ...]]:
    """The sampling, the context size (num_ctx, 0: the settings') and the stop strings."""
    options = body.object("options")
    defaults = Sampling()
    num_predict = options.integer("num_predict", -1)
    assert num_predict is not None
    sampling = Sampling(
        max_tokens=unlimited_tokens() if num_predict < 0 else max(1, num_predict),
        temperature=options.number("temperature", defaults.temperature, low=0) or 0.0,
        top_p=options.number("top_p", defaults.top_p, low=0, high=1) or 0.0,
        top_k=options.integer("top_k", defaults.top_k, low=0) or 0,
        min_p=options.number("min_p", defaults.min_p, low=0, high=1) or 0.0,
        repeat_penalty=options.number("repeat_penalty", 1.0, low=0) or 1.0,
        presence_penalty=options.number("presence_penalty", 0.0) or 0.0,
        frequency_penalty=options.number("frequency_penalty", 0.0) or 0.0,
        seed=options.integer("seed"),
        json_schema=_format_schema(body),
    )
    return sampling, options.integer("num_ctx", 0, low=0) or 0, options.strings("stop")


def _format_schema(body: Fields) -> str:
    """Ollama's ``format``: "json" (any JSON object) or a JSON schema; "" when absent."""
    value = body.data.get("format")
    if value is None or value == "":
        return ""
    if value == "json":
        return ANY_OBJECT
    if not isinstance(value, dict):
        raise ApiError(400, "'format' must be \"json\" or a JSON schema", param="format")
    try:
        return parse_schema(value)
    except UnsupportedSchema as exc:
        raise schema_refused(exc, "format") from None


_UNSUPPORTED_GENERATE = {
    "suffix": "fill-in-the-middle needs a model's own infill template, which Hearth does not apply",
    "template": "the prompt is made with the model's own chat template (or send 'raw': true)",
    "context": "send the conversation as messages to /api/chat instead",
}


def _refuse_images(message: Fields) -> None:
    if message.data.get("images"):
        raise ApiError(
            400,
            f"'{message.name('images')}': Hearth's models read text only for now; send the text alone",
            param=message.name("images"),
        )


def _stats_fields(generation: Generation, stats: GenerationStats) -> dict[str, Any]:
    def ns(tokens: int, tps: float) -> int:
        return int(tokens / tps * 1e9) if tps > 0 else 0

    return {
        "done_reason": "length" if stats.stop_reason in ("length", "context") else "stop",
        "total_duration": int((time.monotonic() - generation.started_at) * 1e9),
        "load_duration": int(generation.load_ms * 1e6),
        "prompt_eval_count": stats.prompt_tokens,
        "prompt_eval_duration": ns(stats.prompt_tokens - stats.cached_tokens, stats.prompt_tps),
        "eval_count": stats.completion_tokens,
        "eval_duration": ns(stats.completion_tokens, stats.gen_tps),
    }


def _ndjson(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False) + "\n"


async def _load_or_unload(
    request: Request, model: LocalModel, keep_alive: float | None, key: str
) -> Response:
    """A request with nothing to say: Ollama loads the model (or, with keep_alive 0, unloads it)."""
    service: ModelService = request.app.state.service
    base = {"model": model.id, "created_at": _iso(time.time()), "done": True}
    if keep_alive == 0:
        await _in_thread(lambda: service.unload(model))
        return JSONResponse(base | {key: _empty(key), "done_reason": "unload"})
    await _in_thread(lambda: service.preload(model, keep_alive))
    return JSONResponse(base | {key: _empty(key), "done_reason": "load"})


def _empty(key: str) -> Any:
    return {"role": "assistant", "content": ""} if key == "message" else ""


async def _in_thread(func: Callable[[], object]) -> None:
    try:
        await run_in_threadpool(func)
    except Exception as exc:
        raise api_error(exc) from None


async def chat(request: Request) -> Response:
    body = await json_body(request, request.app.state.config.max_body_bytes)
    model = await find_model(request, body.required_string("model"))
    keep_alive = keep_alive_seconds(body.data.get("keep_alive"))
    raw_messages = body.objects("messages")
    if not raw_messages:
        return await _load_or_unload(request, model, keep_alive, "message")
    messages = []
    for message in raw_messages:
        role = message.required_string("role")
        if role not in ROLES:
            raise message.bad("role", "'system', 'user', 'assistant' or 'tool'")
        _refuse_images(message)
        calls = tuple(_call(call) for call in message.objects("tool_calls")) if role == "assistant" else ()
        answers = (
            (message.string("tool_call_id") or message.string("tool_name") or "") if role == "tool" else ""
        )
        messages.append(ChatMessage(role, message.string("content", "") or "", calls, answers))
    sampling, n_ctx, stop = _options(body)
    # Ollama has no tool_choice: the model calls a tool if it will.
    tools = offered_tools(
        body.data.get("tools"), "auto", True, schema=sampling.json_schema, schema_param="format"
    )
    sampling = replace(sampling, **tools)
    job = GenerationRequest(model, messages, sampling, n_ctx=n_ctx, keep_alive_s=keep_alive, stop=stop)
    return await _respond(request, body, job, "message")


def _call(call: Fields) -> ToolCall:
    """A call the assistant made earlier: Ollama sends its arguments as an object."""
    function = call.object("function")
    arguments = function.data.get("arguments", {})
    if isinstance(arguments, str):
        arguments = _json_object(function, arguments)
    if not isinstance(arguments, dict):
        raise function.bad("arguments", "an object")
    name = function.required_string("name")
    return ToolCall(call.string("id", "") or "", name, json.dumps(arguments, ensure_ascii=False))


def _json_object(where: Fields, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise where.bad("arguments", "an object") from None


def _ollama_calls(calls: tuple[ToolCall, ...]) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "function": {"index": i, "name": c.name, "arguments": json.loads(c.arguments)}}
        for i, c in enumerate(calls)
    ]


async def generate(request: Request) -> Response:
    body = await json_body(request, request.app.state.config.max_body_bytes)
    model = await find_model(request, body.required_string("model"))
    keep_alive = keep_alive_seconds(body.data.get("keep_alive"))
    # Fields that would change the answer: refused in words rather than ignored, so that an
    # editor asking for fill-in-the-middle gets an error and not a continuation of the prefix.
    for name, why in _UNSUPPORTED_GENERATE.items():
        if body.data.get(name):
            raise ApiError(400, f"'{name}' is not supported by Hearth's server: {why}", param=name)
    _refuse_images(body)
    prompt = body.string("prompt", "") or ""
    if not prompt:
        return await _load_or_unload(request, model, keep_alive, "response")
    sampling, n_ctx, stop = _options(body)
    if body.boolean("raw", False):
        messages, mode = [ChatMessage("user", prompt)], "complete"
    else:
        system = body.string("system")
        messages = [ChatMessage("system", system)] if system else []
        messages.append(ChatMessage("user", prompt))
        mode = "chat"
    job = GenerationRequest(
        model, messages, sampling, mode=mode, n_ctx=n_ctx, keep_alive_s=keep_alive, stop=stop
    )
    return await _respond(request, body, job, "response")


async def _respond(request: Request, body: Fields, job: GenerationRequest, key: str) -> Response:
    """``key`` "message" for /api/chat, "response" for /api/generate."""
    stream = body.boolean("stream", True)  # Ollama streams unless told not to
    generation = Generation(request, job)
    await generation.start()
    model_id = job.model.id

    def record(text: str, thinking: str = "", calls: tuple[ToolCall, ...] = ()) -> dict[str, Any]:
        data: dict[str, Any] = {"model": model_id, "created_at": _iso(time.time())}
        if key == "message":
            data["message"] = {"role": "assistant", "content": text}
            if thinking:
                data["message"]["thinking"] = thinking
            if calls:
                data["message"]["tool_calls"] = _ollama_calls(calls)
        else:
            data["response"] = text
            if thinking:
                data["thinking"] = thinking
        return data

    if not stream:
        stats = await generation.stats()
        segments = split_reasoning(stats.text) if job.mode == "chat" else []
        if any(s.thinking for s in segments):
            answer = "\n\n".join(s.text for s in segments if not s.thinking)
            thinking = "\n\n".join(s.text for s in segments if s.thinking)
        else:
            answer, thinking = stats.text, ""
        return JSONResponse(
            record(answer, thinking, stats.tool_calls) | {"done": True} | _stats_fields(generation, stats)
        )

    async def lines() -> AsyncIterator[str]:
        split = ReasoningStream()
        try:
            async for item in generation.events():
                if isinstance(item, GenerationStats):
                    thinking, answer = split.flush() if job.mode == "chat" else ("", "")
                    if thinking or answer or item.tool_calls:
                        yield _ndjson(record(answer, thinking, item.tool_calls) | {"done": False})
                    if item.stop_reason == "cancelled" and generation.stopped:
                        yield _ndjson({"error": STOPPING_NOTE})
                        return
                    yield _ndjson(record("") | {"done": True} | _stats_fields(generation, item))
                else:
                    thinking, answer = split.feed(item.text) if job.mode == "chat" else ("", item.text)
                    if thinking or answer:
                        yield _ndjson(record(answer, thinking) | {"done": False})
        except ApiError as exc:
            yield _ndjson(exc.ollama_body())

    return StreamingResponse(lines(), media_type="application/x-ndjson")


ROUTES = [
    Route("/api/tags", tags, methods=["GET"]),
    Route("/api/version", version, methods=["GET"]),
    Route("/api/ps", running, methods=["GET"]),
    Route("/api/show", show, methods=["POST"]),
    Route("/api/chat", chat, methods=["POST"]),
    Route("/api/generate", generate, methods=["POST"]),
]
