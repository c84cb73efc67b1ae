"""A request's JSON body, read with a size cap, and its fields read with their types checked:
a wrong one is a 400 that names it (``messages[1].content``)."""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import Request

from desktop.server.errors import ApiError


async def json_body(request: Request, max_bytes: int) -> Fields:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "the request body nests too deep to read") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return Fields(data)


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(413, f"the request body is larger than {max_bytes // (1024 * 1024)} MB")


class Fields:
    """Typed reads of a JSON object's fields; ``where`` names the object in error messages."""

    def __init__(self, data: dict[str, Any], where: str = "") -> None:
        self.data = data
        self.where = where

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def bad(self, key: str, what: str) -> ApiError:
        return ApiError(400, f"'{self.name(key)}' must be {what}", param=self.name(key))

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise ApiError(400, f"'{self.name(key)}' is required", param=self.name(key))
            return default
        if not isinstance(value, str):
            raise self.bad(key, "a string")
        return value

    def required_string(self, key: str) -> str:
        value = self.string(key, required=True)
        assert value is not None
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.bad(key, "true or false")
        return value

    def number(
        self, key: str, default: float | None = None, *, low: float = -math.inf, high: float = math.inf
    ) -> float | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.bad(key, "a number")
        if not low <= value <= high:
            raise self.bad(key, f"between {low:g} and {high:g}")
        return float(value)

    def integer(self, key: str, default: int | None = None, *, low: int | None = None) -> int | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.bad(key, "a whole number")
        if low is not None and value < low:
            raise self.bad(key, f"at least {low}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        """A string or a list of strings (``stop``)."""
        value = self.data.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise self.bad(key, "a string or a list of strings")

    def objects(self, key: str, *, required: bool = False) -> list[Fields]:
        value = self.data.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.bad(key, "a list of objects")
        return [Fields(v, f"{self.name(key)}[{i}]") for i, v in enumerate(value)]

    def object(self, key: str) -> Fields:
        value = self.data.get(key)
        if value is None:
            return Fields({}, self.name(key))
        if not isinstance(value, dict):
            raise self.bad(key, "an object")
        return Fields(value, self.name(key))
