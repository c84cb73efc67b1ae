"""``hearth serve`` as a person runs it: a real process, its stderr, its signals, its exit codes."""

from __future__ import annotations

import http.client
import json
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import run_env
from tests.serving import add_to_library

LONG_CONTEXT = 32768


class ServeProcess:
    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "desktop", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=run_env(),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def wait_line(self, start: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no line starting {start!r}: {''.join(self.stderr)}"
            try:
                line = self.lines.get(timeout=min(left, 1))
            except queue.Empty:
                assert self.process.poll() is None, f"exited: {''.join(self.stderr)}"
                continue
            if line.startswith(start):
                return line.strip()

    def port(self) -> int:
        url = self.wait_line("listening on http://127.0.0.1:")
        return int(url.rsplit(":", 1)[1])

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        """Exit code, stdout and stderr once the process has ended by itself."""
        assert self.process.stdout is not None
        out = self.process.stdout.read()
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        return code, out, "".join(self.stderr)


@contextmanager
def serve(*args: str) -> Iterator[ServeProcess]:
    process = ServeProcess(*args)
    try:
        yield process
    finally:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait(10)


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_serve_preloads_logs_requests_and_ends_on_sigterm_in_words(
    tmp_path: Path, model_cache: Callable[..., Path]
) -> None:
    outside = model_cache("Long-F32.gguf", context_length=LONG_CONTEXT)  # a path, not in the library
    with serve("--port", "0", "--model", str(outside)) as server:
        loaded = server.wait_line("loaded ")
        port = server.port()
        status, body = get(port, "/v1/models")
        assert status == 200
        (entry,) = json.loads(body)["data"]
        assert entry["id"] in loaded
        assert "GET /v1/models 200" in server.wait_line("127.0.0.1:")

        # A reply in flight when the server is told to stop is cut short, and says so.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        request = {
            "model": entry["id"],
            "messages": [{"role": "user", "content": "Hello"}],
            "options": {"num_ctx": LONG_CONTEXT, "num_predict": LONG_CONTEXT - 100},
        }
        conn.request("POST", "/api/chat", body=json.dumps(request))
        response = conn.getresponse()
        assert json.loads(response.readline())["done"] is False
        server.process.send_signal(signal.SIGTERM)
        rest = [json.loads(line) for line in response.read().decode().splitlines()]
        assert rest[-1] == {"error": "The server is stopping: this reply was cut short."}
        code, out, err = server.finish()
    assert code == 0, err
    assert out == "" and "stopping: 1 request in flight cancelled" in err
    assert "POST /api/chat 200" in err and "Traceback" not in err


def test_ctrl_c_ends_serve_with_exit_0(models_dir: Path, model_cache: Callable[..., Path]) -> None:
    add_to_library(models_dir, model_cache())
    with serve("--port", "0", "--idle-unload", "5") as server:
        port = server.port()
        status, body = get(port, "/api/tags")
        assert status == 200 and len(json.loads(body)["models"]) == 1
        server.process.send_signal(signal.SIGINT)
        code, _, err = server.finish()
    assert code == 0 and "stopping" in err and "Traceback" not in err


def test_port_in_use_is_exit_1_in_words() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with serve("--port", str(port)) as server:
            code, out, err = server.finish()
    assert code == 1 and out == ""
    assert (
        err.strip()
        == f"error: port {port} on 127.0.0.1 is in use by another program: choose another with --port"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--host", "0.0.0.0"), "error: listening on 0.0.0.0 lets other machines reach your models"),
        (("--api-key", " "), "error: the API key is empty"),
        (("--api-key-file", "/nonexistent/key"), "error: cannot read the API key from /nonexistent/key"),
        (("--model", "no-such-model"), "error: no model 'no-such-model'"),
    ],
)
def test_unsafe_or_wrong_settings_refuse_to_start(args: tuple[str, ...], message: str) -> None:
    with serve("--port", "0", *args) as server:
        code, out, err = server.finish()
    assert code == 1 and out == "" and err.startswith(message), err
    assert "listening on http" not in err
