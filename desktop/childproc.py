"""Hearth's helper processes (the inference worker, downloads) and how they talk.

A child is started as ``hearth <subcommand>`` (or ``python -m desktop <subcommand>``) and
speaks JSON lines: commands on its stdin, events on a private copy of its stdout. Its real
stdout is pointed at stderr, so nothing a C library prints can corrupt the protocol. When
the parent dies, however it dies, the child's stdin closes and the child exits.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import IO, Any

Event = dict[str, Any]


def child_argv(subcommand: str, *args: str) -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, subcommand, *args]
    return [sys.executable, "-m", "desktop", subcommand, *args]


class ChildProcess:
    """The parent's handle on one helper process."""

    def __init__(self, subcommand: str, *args: str, env: dict[str, str] | None = None) -> None:
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self._proc = subprocess.Popen(
            child_argv(subcommand, *args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            # A new session, so a Ctrl+C meant for the CLI's own process is handled by it
            # (it cancels and kills the child) rather than hitting both at once.
            start_new_session=True,
        )
        self._stdin_lock = threading.Lock()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        for raw in self._proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._stderr_tail.append(line)

    def stderr_tail(self) -> list[str]:
        return list(self._stderr_tail)

    def send(self, message: dict[str, Any]) -> bool:
        """False when the child has gone."""
        data = (json.dumps(message) + "\n").encode()
        with self._stdin_lock:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write(data)
                self._proc.stdin.flush()
                return True
            except (BrokenPipeError, OSError, ValueError):
                return False

    def events(self) -> Iterator[Event]:
        """Events until the child exits; ends when its protocol pipe closes."""
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if isinstance(event, dict):
                yield event

    def wait(self, timeout: float | None = None) -> int | None:
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def poll(self) -> int | None:
        return self._proc.poll()

    def kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._close_pipes()

    def close(self, timeout: float = 3.0) -> None:
        """Ask politely by closing stdin, then kill."""
        with self._stdin_lock:
            try:
                if self._proc.stdin:
                    self._proc.stdin.close()
            except OSError:
                pass
        if self.wait(timeout) is None:
            self.kill()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self._proc.stdin, self._proc.stdout):
            try:
                if pipe:
                    pipe.close()
            except OSError:
                pass


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "is still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was stopped by {name}"
    return f"exited with code {returncode}"


class ParentLink:
    """The child's side: emit events, read commands, and exit when the parent is gone."""

    def __init__(self) -> None:
        # Keep a private handle on the pipe to the parent, then send fd 1 to stderr.
        self._out: IO[str] = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        line = json.dumps(event) + "\n"
        with self._lock:
            try:
                self._out.write(line)
                self._out.flush()
            except (BrokenPipeError, OSError):
                os._exit(0)  # the parent is gone; nobody to work for

    def read_commands(self, handle: Callable[[Event], None]) -> None:
        """Blocks: hands each command to ``handle``; exits the process on EOF."""
        for raw in sys.stdin.buffer:
            try:
                command = json.loads(raw)
            except ValueError:
                continue
            if isinstance(command, dict):
                handle(command)
        os._exit(0)

    def exit_when_parent_dies(self) -> None:
        """For children that take no commands: a thread that waits for stdin to close."""

        def wait_for_eof() -> None:
            sys.stdin.buffer.read()
            os._exit(0)

        threading.Thread(target=wait_for_eof, daemon=True).start()
