"""Embeddings over the serving core: OpenAI's ``/v1/embeddings`` and Ollama's ``/api/embed``."""

from __future__ import annotations

import base64
import struct
import threading
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.app.model_service import GenerationFailed, ModelService
from desktop.engine.protocol import Embeddings
from desktop.library.scan import LocalModel
from desktop.server.errors import ApiError
from desktop.server.generation import api_error, find_model, log
from desktop.server.request_body import Fields, json_body

MAX_INPUTS = 2048  # as OpenAI's endpoint


def _texts(body: Fields) -> list[str]:
    value = body.data.get("input")
    if isinstance(value, str):
        texts = [value]
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        texts = list(value)
    elif isinstance(value, list) and value and all(isinstance(v, int | list) for v in value):
        raise ApiError(400, "'input' holds token ids: Hearth embeds text; send the text", param="input")
    else:
        raise body.bad("input", "a string or a non-empty list of strings")
    if len(texts) > MAX_INPUTS:
        raise ApiError(
            400, f"'input' holds {len(texts):,} texts; at most {MAX_INPUTS:,} a request", param="input"
        )
    for index, text in enumerate(texts):
        if not text:
            where = "input" if isinstance(value, str) else f"input[{index}]"
            raise ApiError(400, f"'{where}' is empty: there is nothing to embed", param=where)
    return texts


async def _embed(
    request: Request, model: LocalModel, texts: list[str], truncate: bool
) -> tuple[Embeddings, float, float]:
    """The embeddings, the load's milliseconds (0 when the model was loaded) and the total's."""
    service: ModelService = request.app.state.service
    cancel = threading.Event()
    started = time.monotonic()
    loaded_before = any(m.model.id == model.id for m in service.loaded())
    try:
        _info, result = await run_in_threadpool(service.embed, model, texts, cancel, truncate=truncate)
    except GenerationFailed as exc:
        if exc.kind in ("context", "unsupported"):
            raise ApiError(400, str(exc), param="input") from None
        raise api_error(exc) from None
    except Exception as exc:
        raise api_error(exc) from None
    finally:
        cancel.set()
    total_ms = (time.monotonic() - started) * 1000
    record = log(request)
    record.prompt_tokens = result.prompt_tokens
    return result, 0.0 if loaded_before else total_ms, total_ms


def _check_dimensions(body: Fields, result: Embeddings) -> None:
    wanted = body.integer("dimensions", low=1)
    have = len(result.vectors[0]) if result.vectors else 0
    if wanted is not None and wanted != have:
        raise ApiError(
            400,
            f"'dimensions' is {wanted}, but this model's embeddings have {have} and it cannot "
            "shorten them: leave 'dimensions' out",
            param="dimensions",
        )


def _base64(vector: list[float]) -> str:
    """OpenAI's base64 form: the vector's float32 values, little-endian."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


async def openai_embeddings(request: Request) -> Response:
    body = await json_body(request, request.app.state.config.max_body_bytes)
    model = await find_model(request, body.required_string("model"))
    texts = _texts(body)
    encoding = body.string("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise body.bad("encoding_format", "'float' or 'base64'")
    # OpenAI refuses a text over the model's length rather than cut it.
    result, _load_ms, _total_ms = await _embed(request, model, texts, truncate=False)
    _check_dimensions(body, result)
    data: list[dict[str, Any]] = [
        {
            "object": "embedding",
            "index": index,
            "embedding": _base64(vector) if encoding == "base64" else vector,
        }
        for index, vector in enumerate(result.vectors)
    ]
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "model": model.id,
            "usage": {"prompt_tokens": result.prompt_tokens, "total_tokens": result.prompt_tokens},
        }
    )


async def ollama_embed(request: Request) -> Response:
    body = await json_body(request, request.app.state.config.max_body_bytes)
    model = await find_model(request, body.required_string("model"))
    texts = _texts(body)
    result, load_ms, total_ms = await _embed(request, model, texts, truncate=body.boolean("truncate", True))
    _check_dimensions(body, result)
    return JSONResponse(
        {
            "model": model.id,
            "embeddings": result.vectors,
            "total_duration": int(total_ms * 1e6),
            "load_duration": int(load_ms * 1e6),
            "prompt_eval_count": result.prompt_tokens,
        }
    )


ROUTES = [
    Route("/v1/embeddings", openai_embeddings, methods=["POST"]),
    Route("/api/embed", ollama_embed, methods=["POST"]),
]
