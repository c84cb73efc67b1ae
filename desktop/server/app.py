"""The HTTP application: both APIs' routes behind the guards, on one serving core."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response

from desktop.app.model_service import ModelService
from desktop.app.request_log import RequestLog
from desktop.app.server_config import ServerConfig
from desktop.server import embeddings, ollama_api, openai_api
from desktop.server.errors import ApiError
from desktop.server.guards import ApiKeyCheck, RequestGuard


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if exc.status == 499:  # the client went away: nobody reads the answer
        request.scope["hearth.log"].note = "the client went away"
    return exc.response_for(request.url.path)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "no such endpoint" if exc.status_code == 404 else str(exc.detail)
    return ApiError(exc.status_code, message).response_for(request.url.path)


def build_app(
    service: ModelService, config: ServerConfig, write_log: Callable[[RequestLog], None]
) -> Starlette:
    # Outermost first: the Host check and the log, then CORS (whose preflight carries no key),
    # then the key.
    middleware = [Middleware(RequestGuard, bound_host=config.host, write_log=write_log)]
    if config.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            )
        )
    if config.api_key:
        middleware.append(Middleware(ApiKeyCheck, api_key=config.api_key))
    app = Starlette(
        routes=[*openai_api.ROUTES, *ollama_api.ROUTES, *embeddings.ROUTES],
        middleware=middleware,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    app.state.service = service
    app.state.config = config
    return app
