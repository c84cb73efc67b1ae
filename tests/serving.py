"""A real Hearth server in the test's process, on a free port on 127.0.0.1: the serving core,
real engine workers on factory models, the Starlette application under uvicorn."""

from __future__ import annotations

import http.client
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import uvicorn

from desktop.app.model_service import ModelService
from desktop.app.request_log import RequestLog
from desktop.app.served_models import ModelDirectory
from desktop.app.server_config import ServerConfig
from desktop.library.catalog import scan_library
from desktop.server.app import build_app
from desktop.server.run import bind
from desktop.settings import Settings


def add_to_library(models_dir: Path, source: Path, repo: str = "hearth-test/Tiny-GGUF") -> Path:
    folder = models_dir / repo
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(source, folder / source.name))


@dataclass
class RunningServer:
    service: ModelService
    config: ServerConfig
    port: int
    log: list[RequestLog] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connection(self, timeout: float = 60) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request on a connection of its own: status, headers (lower-case names), body."""
        conn = self.connection()
        data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
        try:
            conn.request(
                method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})}
            )
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def model_id(self, index: int = 0) -> str:
        return self.service.directory.models()[index].id

    def wait_for(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.02)


@contextmanager
def running_server(
    config: ServerConfig | None = None,
    *,
    settings: Settings | None = None,
    available_memory: Callable[[], int | None] | None = None,
) -> Iterator[RunningServer]:
    config = replace(config or ServerConfig(), port=0)
    extra: dict[str, Any] = {} if available_memory is None else {"available_memory": available_memory}
    service = ModelService(
        settings or Settings(),
        ModelDirectory(scan_library),
        queue_length=config.queue_length,
        idle_unload_s=config.idle_unload_s,
        **extra,
    )
    sock = bind(config.host, 0)
    port = sock.getsockname()[1]
    server_record = RunningServer(service, config, port)
    app = build_app(service, config, server_record.log.append)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        server_record.wait_for(lambda: server.started)
        yield server_record
    finally:
        service.cancel_all()
        server.should_exit = True
        thread.join(15)
        service.close()
        sock.close()
