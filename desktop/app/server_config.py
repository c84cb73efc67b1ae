"""How the local API server is to run: what ``hearth serve``'s flags (and, later, the window's
Server page) decide, and the safety rule they must satisfy before it starts."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from desktop.app.request_log import RequestLog
from desktop.library.scan import LocalModel

if TYPE_CHECKING:
    from desktop.app.model_service import ModelService

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5151  # no peer uses it: runs beside llama-server (8080), Ollama (11434), LM Studio (1234)
DEFAULT_QUEUE_LENGTH = 16
MAX_BODY_BYTES = 4 * 1024 * 1024
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


class ServeFailed(Exception):
    """The server could not start (its port taken, its address refused); the message says why."""


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


@dataclass(frozen=True)
class ServerConfig:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT  # 0: any free port (the address printed says which)
    api_key: str | None = None
    preload: tuple[LocalModel, ...] = ()
    cors_origins: tuple[str, ...] = ()
    idle_unload_s: float = math.inf  # a model unused this long is unloaded
    queue_length: int = DEFAULT_QUEUE_LENGTH  # requests that may wait for one model
    max_body_bytes: int = MAX_BODY_BYTES

    def refusal(self) -> str | None:
        """Why this configuration must not start, in words; None when it may."""
        if not is_loopback(self.host) and not self.api_key:
            return (
                f"listening on {self.host} lets other machines reach your models: give an API key "
                "(--api-key or --api-key-file), or keep the default host 127.0.0.1"
            )
        return None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


class RunningServer(Protocol):
    """A server started in this process (the window's), until ``stop``."""

    @property
    def url(self) -> str: ...

    def stop(self) -> None:
        """Cancels the replies in flight, stops listening and ends the service's workers."""
        ...


# Starts the HTTP server on a thread of its own (desktop/server/run.py, handed to the window by
# the program's entry point: a front end does not import another). ServeFailed says why not.
ServerLauncher = Callable[["ModelService", ServerConfig, Callable[[RequestLog], None]], RunningServer]
