"""One line a request for the server's log: who asked, for what, what came of it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class RequestLog:
    client: str
    method: str
    path: str
    status: int = 0
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tps: float | None = None
    note: str | None = None
    started: float = field(default_factory=time.monotonic)
    wall_time: float = field(default_factory=time.time)  # when it came, for a log a person reads

    def line(self) -> str:
        parts = [self.client, self.method, self.path, str(self.status)]
        if self.model:
            parts.append(f"model={self.model}")
        if self.prompt_tokens is not None and self.completion_tokens is not None:
            parts.append(f"tokens={self.prompt_tokens}+{self.completion_tokens}")
        if self.tps:
            parts.append(f"{self.tps:.1f} tok/s")
        parts.append(f"{(time.monotonic() - self.started) * 1000:.0f} ms")
        if self.note:
            parts.append(f"({self.note})")
        return " ".join(parts)
