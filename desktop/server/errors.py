"""An API request that fails, and the two shapes its error takes: OpenAI's and Ollama's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse

OLLAMA_PREFIX = "/api/"


@dataclass
class ApiError(Exception):
    status: int
    message: str
    param: str | None = None
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    @property
    def kind(self) -> str:
        """OpenAI's error ``type`` for this status."""
        if self.status == 401:
            return "authentication_error"
        if self.status == 403:
            return "permission_error"
        if self.status == 404:
            return "not_found_error"
        if self.status == 429:
            return "rate_limit_error"
        if self.status >= 500:
            return "server_error"
        return "invalid_request_error"

    def openai_body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}

    def ollama_body(self) -> dict[str, Any]:
        return {"error": self.message}

    def body_for(self, path: str) -> dict[str, Any]:
        return self.ollama_body() if path.startswith(OLLAMA_PREFIX) else self.openai_body()

    def response_for(self, path: str) -> JSONResponse:
        return JSONResponse(self.body_for(path), status_code=self.status, headers=self.headers)
