"""OpenAI's API over the serving core: /v1/models, /v1/chat/completions, /v1/completions."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from desktop.app.model_service import GenerationRequest
from desktop.engine.json_schema import ANY_OBJECT, UnsupportedSchema, parse_schema
from desktop.engine.protocol import ChatMessage, GenerationStats, Sampling, ToolCall
from desktop.engine.tool_calls import CHOICES
from desktop.gguf.reasoning import ReasoningStream, split_reasoning
from desktop.library.scan import LocalModel
from desktop.server.errors import ApiError
from desktop.server.generation import (
    STOPPING_NOTE,
    Generation,
    find_model,
    finish_reason,
    library_models,
    offered_tools,
    schema_refused,
    unlimited_tokens,
)
from desktop.server.request_body import Fields, json_body

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _created(model: LocalModel) -> int:
    try:
        return int(model.path.stat().st_mtime)
    except OSError:
        return 0


def _model_entry(model: LocalModel) -> dict[str, Any]:
    return {
        "id": model.id,
        "object": "model",
        "created": _created(model),
        "owned_by": "hearth",
        "name": model.name,
    }


async def list_models(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [_model_entry(m) for m in await library_models(request)]})


async def one_model(request: Request) -> Response:
    return JSONResponse(_model_entry(await find_model(request, request.path_params["model"])))


def _content(message: Fields) -> str:
    """A message's text: a string, or a list of text parts (as Open WebUI sends it)."""
    value = message.data.get("content")
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise message.bad("content", "a string or a list of text parts")
    texts = []
    for i, part in enumerate(message.objects("content")):
        kind = part.string("type")
        if kind in ("image_url", "input_image", "image", "input_audio", "file"):
            raise ApiError(
                400,
                f"'{message.name('content')}[{i}]' is an {kind} part: Hearth's models read text only "
                "for now; send the text alone",
                param=f"{message.name('content')}[{i}]",
            )
        if kind != "text":
            raise part.bad("type", "'text'")
        texts.append(part.required_string("text"))
    return "".join(texts)


def _messages(body: Fields) -> list[ChatMessage]:
    messages = []
    for message in body.objects("messages", required=True):
        role = message.required_string("role")
        if role not in ROLES:
            raise message.bad("role", "'system', 'user', 'assistant' or 'tool'")
        calls = tuple(_call(call) for call in message.objects("tool_calls")) if role == "assistant" else ()
        answers = message.required_string("tool_call_id") if role == "tool" else ""
        messages.append(ChatMessage(ROLES[role], _content(message), calls, answers))
    if not messages:
        raise ApiError(400, "'messages' must hold at least one message", param="messages")
    return messages


def _call(call: Fields) -> ToolCall:
    """A call the assistant made earlier, as the client sends it back."""
    function = call.object("function")
    arguments = function.string("arguments", "{}") or "{}"
    try:
        json.loads(arguments)
    except ValueError:
        raise function.bad("arguments", "JSON text (an object)") from None
    return ToolCall(call.string("id", "") or "", function.required_string("name"), arguments)


def _tools(body: Fields) -> dict[str, Any]:
    """The tools the reply may call, as Sampling's fields (none when the request has none)."""
    if body.has("functions") or body.has("function_call"):
        raise ApiError(
            400, "'functions' is OpenAI's old form: send the functions as 'tools'", param="functions"
        )
    choice = body.data.get("tool_choice", "auto")
    if isinstance(choice, dict):
        choice = Fields(choice, "tool_choice").object("function").required_string("name")
    elif choice not in CHOICES:
        raise body.bad("tool_choice", "'auto', 'none', 'required' or a function")
    kind = body.object("response_format").string("type", "text")
    return offered_tools(
        body.data.get("tools"),
        choice,
        body.boolean("parallel_tool_calls", True),
        schema="" if kind == "text" else str(kind),
        schema_param="response_format",
    )


def openai_calls(calls: tuple[ToolCall, ...]) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in calls
    ]


def _sampling(body: Fields, *, default_max: int) -> Sampling:
    if (n := body.integer("n", 1)) != 1:
        raise ApiError(400, f"'n' is {n}: Hearth writes one choice per request", param="n")
    max_tokens = body.integer("max_completion_tokens", low=1)
    if max_tokens is None:
        max_tokens = body.integer("max_tokens", default_max, low=1)
    assert max_tokens is not None
    defaults = Sampling()
    return Sampling(
        max_tokens=max_tokens,
        temperature=body.number("temperature", defaults.temperature, low=0, high=2) or 0.0,
        top_p=body.number("top_p", defaults.top_p, low=0, high=1) or 0.0,
        top_k=defaults.top_k,
        min_p=defaults.min_p,
        seed=body.integer("seed"),
        presence_penalty=body.number("presence_penalty", 0.0, low=-2, high=2) or 0.0,
        frequency_penalty=body.number("frequency_penalty", 0.0, low=-2, high=2) or 0.0,
    )


def _refuse_later_features(body: Fields) -> None:
    """Fields a program relies on that Hearth cannot honour yet: refused, never ignored."""
    if body.data.get("logprobs"):
        raise ApiError(400, "logprobs are not supported by Hearth's server", param="logprobs")


def _response_schema(body: Fields) -> str:
    """The JSON schema ``response_format`` asks the reply to keep, as JSON text ("" for text)."""
    response_format = body.object("response_format")
    kind = response_format.string("type", "text")
    if kind == "text":
        return ""
    if kind == "json_object":
        return ANY_OBJECT
    if kind == "json_schema":
        spec = response_format.object("json_schema")
        if "schema" not in spec.data:  # OpenAI's own default: any JSON value
            return "{}"
        try:
            return parse_schema(spec.data["schema"])
        except UnsupportedSchema as exc:
            raise schema_refused(exc, "response_format.json_schema.schema") from None
    raise ApiError(
        400,
        f"'response_format.type' must be text, json_object or json_schema, not '{kind}'",
        param="response_format.type",
    )


def _usage(stats: GenerationStats) -> dict[str, int]:
    return {
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "total_tokens": stats.prompt_tokens + stats.completion_tokens,
    }


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _stream_error(generation: Generation, exc: ApiError | None) -> str:
    message = STOPPING_NOTE if exc is None else exc.message
    return _sse(ApiError(503 if exc is None else exc.status, message).openai_body())


async def chat_completions(request: Request) -> Response:
    body = await json_body(request, request.app.state.config.max_body_bytes)
    model = await find_model(request, body.required_string("model"))
    _refuse_later_features(body)
    tools = _tools(body)
    sampling = replace(
        _sampling(body, default_max=unlimited_tokens()), json_schema=_response_schema(body), **tools
    )
    job = GenerationRequest(model, _messages(body), sampling, stop=body.strings("stop"))
    stream = body.boolean("stream", False)
    include_usage = body.object("stream_options").boolean("include_usage", False)
    generation = Generation(request, job)
    await generation.start()
    reply_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())

    if not stream:
        stats = await generation.stats()
        message: dict[str, Any] = {"role": "assistant", "content": stats.text}
        segments = split_reasoning(stats.text)
        if any(s.thinking for s in segments):
            message["content"] = "\n\n".join(s.text for s in segments if not s.thinking)
            message["reasoning_content"] = "\n\n".join(s.text for s in segments if s.thinking)
        if stats.tool_calls:
            message["content"] = message["content"] or None
            message["tool_calls"] = openai_calls(stats.tool_calls)
        return JSONResponse(
            {
                "id": reply_id,
                "object": "chat.completion",
                "created": created,
                "model": model.id,
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason(stats)}
                ],
                "usage": _usage(stats),
            }
        )

    def chunk(delta: dict[str, Any], reason: str | None = None) -> str:
        data: dict[str, Any] = {
            "id": reply_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model.id,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}],
        }
        if include_usage:
            data["usage"] = None
        return _sse(data)

    async def events() -> AsyncIterator[str]:
        split = ReasoningStream()
        yield chunk({"role": "assistant", "content": ""})
        try:
            async for item in generation.events():
                if isinstance(item, GenerationStats):
                    thinking, answer = split.flush()
                    if thinking or answer:
                        yield chunk(_delta(thinking, answer))
                    for index, call in enumerate(openai_calls(item.tool_calls)):
                        yield chunk({"tool_calls": [{"index": index, **call}]})
                    if item.stop_reason == "cancelled" and generation.stopped:
                        yield _stream_error(generation, None)
                        return
                    yield chunk({}, finish_reason(item))
                    if include_usage:
                        usage = {
                            "id": reply_id,
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": model.id,
                            "choices": [],
                            "usage": _usage(item),
                        }
                        yield _sse(usage)
                else:
                    thinking, answer = split.feed(item.text)
                    if thinking or answer:
                        yield chunk(_delta(thinking, answer))
        except ApiError as exc:
            yield _stream_error(generation, exc)
            return
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)


def _delta(thinking: str, answer: str) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if thinking:
        delta["reasoning_content"] = thinking
    if answer:
        delta["content"] = answer
    return delta


def _prompt(body: Fields) -> str:
    value = body.data.get("prompt")
    if isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return value[0]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        raise ApiError(400, "'prompt' holds several prompts: send one per request", param="prompt")
    raise body.bad("prompt", "a string")


async def completions(request: Request) -> Response:
    body = await json_body(request, request.app.state.config.max_body_bytes)
    model = await find_model(request, body.required_string("model"))
    prompt = _prompt(body)
    if body.data.get("echo") or body.data.get("suffix") or body.data.get("logprobs"):
        raise ApiError(400, "echo, suffix and logprobs are not supported by Hearth's server")
    sampling = _sampling(body, default_max=16)  # OpenAI's default for this endpoint
    job = GenerationRequest(
        model, [ChatMessage("user", prompt)], sampling, mode="complete", stop=body.strings("stop")
    )
    stream = body.boolean("stream", False)
    include_usage = body.object("stream_options").boolean("include_usage", False)
    generation = Generation(request, job)
    await generation.start()
    reply_id = f"cmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())

    def record(text: str, reason: str | None) -> dict[str, Any]:
        return {
            "id": reply_id,
            "object": "text_completion",
            "created": created,
            "model": model.id,
            "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": reason}],
        }

    if not stream:
        stats = await generation.stats()
        return JSONResponse(record(stats.text, finish_reason(stats)) | {"usage": _usage(stats)})

    async def events() -> AsyncIterator[str]:
        try:
            async for item in generation.events():
                if isinstance(item, GenerationStats):
                    if item.stop_reason == "cancelled" and generation.stopped:
                        yield _stream_error(generation, None)
                        return
                    yield _sse(record("", finish_reason(item)))
                    if include_usage:
                        yield _sse(record("", None) | {"choices": [], "usage": _usage(item)})
                else:
                    yield _sse(record(item.text, None))
        except ApiError as exc:
            yield _stream_error(generation, exc)
            return
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)


ROUTES = [
    Route("/v1/models", list_models, methods=["GET"]),
    Route("/v1/models/{model:path}", one_model, methods=["GET"]),
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/completions", completions, methods=["POST"]),
]
