"""How the local API server is to run: what ``hearth serve``'s flags (and, later, the window's
Server page) decide, and the safety rule they must satisfy before it starts."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from desktop.library.scan import LocalModel

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
