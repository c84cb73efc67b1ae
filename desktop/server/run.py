"""The server as a process runs it: bound, listening, logging a line a request, and ended by
SIGTERM or Ctrl+C with the replies in flight cancelled in words."""

from __future__ import annotations

import asyncio
import errno
import math
import socket
import sys
import threading
from collections.abc import Callable
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from desktop.app.model_service import GenerationFailed, ModelService, ModelWontFit
from desktop.app.request_log import RequestLog
from desktop.app.server_config import ServeFailed, ServerConfig
from desktop.server.app import build_app


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, or ServeFailed saying why not (a port in use, say)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise ServeFailed(f"cannot listen on {host}: {exc.strerror or exc}") from exc
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeFailed(
                f"port {port} on {host} is in use by another program: choose another with --port"
            ) from exc
        raise ServeFailed(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from exc
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server that says when it accepts connections, and cancels the replies in
    flight as soon as it is asked to stop (uvicorn alone would wait for them to finish)."""

    def __init__(
        self, config: uvicorn.Config, service: ModelService, on_listening: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self._service = service
        self._on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_listening()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            cancelled = self._service.cancel_all()
            if cancelled:
                say(f"stopping: {cancelled} request{'s' if cancelled != 1 else ''} in flight cancelled")
            else:
                say("stopping")
        super().handle_exit(sig, frame)
        # uvicorn raises the signal again once it has stopped, which would end the process
        # by it (SIGTERM) or as interrupted (exit 130): a server asked to stop has succeeded.
        self._captured_signals.clear()


def _uvicorn_config(app: ASGIApp) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        # Named, not detected: the same protocol code runs from a checkout and from the
        # bundle (PyInstaller sees no import uvicorn makes by name at run time).
        http="h11",
        loop="asyncio",
        ws="none",
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
        server_header=False,
    )


def serve(
    service: ModelService,
    config: ServerConfig,
    *,
    write_log: Callable[[RequestLog], None] = lambda record: say(record.line()),
    on_listening: Callable[[str], None] = lambda url: say(f"listening on {url}"),
) -> int:
    """Blocking until SIGTERM or Ctrl+C; 0 then. ServeFailed when it cannot start."""
    sock = bind(config.host, config.port)
    try:
        for model in config.preload:
            try:
                service.directory.pin(model)
                loaded = service.preload(model, keep_alive_s=math.inf)  # asked for: kept
            except (GenerationFailed, ModelWontFit) as exc:
                raise ServeFailed(str(exc)) from exc
            say(f"loaded {model.name} as '{model.id}' ({loaded.load_ms:.0f} ms)")
        port = sock.getsockname()[1]
        url = ServerConfig(host=config.host, port=port).url
        app = build_app(service, config, write_log)
        server = _Server(_uvicorn_config(app), service, lambda: on_listening(url))
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        service.close()
        sock.close()
    return 0


class BackgroundServer:
    """The server on a thread of its own in the window's process, until ``stop``."""

    def __init__(
        self, service: ModelService, config: ServerConfig, write_log: Callable[[RequestLog], None]
    ) -> None:
        self._service = service
        self._sock = bind(config.host, config.port)  # ServeFailed here, before any thread
        self.url = ServerConfig(host=config.host, port=self._sock.getsockname()[1]).url
        self._listening = threading.Event()
        self._server = _Server(
            _uvicorn_config(build_app(service, config, write_log)), service, self._listening.set
        )
        self._thread = threading.Thread(target=self._run, daemon=True, name="api-server")
        self._thread.start()
        self._listening.wait(10.0)

    def _run(self) -> None:
        # uvicorn leaves signals alone off the main thread: the window keeps its own.
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def stop(self) -> None:
        self._service.cancel_all()
        self._server.should_exit = True
        self._thread.join(timeout=10.0)
        self._service.close()
        self._sock.close()


def start_in_background(
    service: ModelService, config: ServerConfig, write_log: Callable[[RequestLog], None]
) -> BackgroundServer:
    """The window's server (desktop/app/server_config.ServerLauncher); ServeFailed says why not."""
    return BackgroundServer(service, config, write_log)


def serve_headless(config: ServerConfig) -> int:
    """``hearth serve``: the serving core on the app's settings, behind the HTTP API."""
    from desktop.app.served_models import ModelDirectory
    from desktop.library.catalog import scan_library
    from desktop.settings import load_settings

    service = ModelService(
        load_settings(),
        ModelDirectory(scan_library, config.preload),
        queue_length=config.queue_length,
        idle_unload_s=config.idle_unload_s,
    )
    return serve(service, config)
