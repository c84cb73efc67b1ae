"""How ``hearth COMMAND`` ends when its reader goes away or the person presses Ctrl+C.

- A stdout whose reader stopped reading (``hearth list --json | head -1``, ``hearth run … |
  head -c 10``) ends the command quietly with exit 0: the reader had what it wanted, and a
  pipeline under ``set -o pipefail`` should not fail because ``head`` did its job. The command's
  cleanup runs on the way out (the engine worker is ended; a download keeps its ``.part``).
- A stderr whose reader went away only silences the notes and progress lines: the command goes
  on and its result still reaches stdout (``2> >(head -1)``).
- Ctrl+C (SIGINT) ends any command with exit 130 and one line on stderr, after the command's
  own cleanup has run. A second Ctrl+C while that cleanup runs ends the process at once; its
  helper processes notice their closed pipe and end themselves.

Stdlib only: this module is imported before anything slow, so a Ctrl+C during the imports is
handled too.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO, cast

INTERRUPTED_EXIT = 130


class Interrupted(KeyboardInterrupt):
    """A Ctrl+C that a command has turned into a note of its own (``error: <note>``)."""


@dataclass
class _SigintState:
    held: int = 0  # depth of ``held_interrupts`` blocks
    pending: bool = False  # a Ctrl+C arrived while held
    raised: bool = False  # the first Ctrl+C has been raised; the command is cleaning up


_state = _SigintState()


def _on_sigint(signum: int, frame: Any) -> None:
    if _state.raised:
        # The second Ctrl+C: the person does not want to wait for the cleanup.
        _write_line(sys.stderr, "error: interrupted")
        os._exit(INTERRUPTED_EXIT)
    if _state.held:
        _state.pending = True
        return
    _state.raised = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def held_interrupts() -> Iterator[None]:
    """A Ctrl+C inside waits for the end of the block (e.g. a token shown must also be saved)."""
    _state.held += 1
    try:
        yield
    finally:
        _state.held -= 1
        if not _state.held and _state.pending:
            _state.pending = False
            _state.raised = True
            raise KeyboardInterrupt


def end_streamed_line() -> None:
    """After a reply cut short on a terminal, the note about it starts on a line of its own."""
    with contextlib.suppress(OSError, ValueError):
        if sys.stdout.isatty():
            sys.stdout.write("\n")
            sys.stdout.flush()


def _to_devnull(fd: int) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


class _QuietStderr:
    """sys.stderr that goes silent, instead of raising, once its reader has gone."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            self._stream.write(text)
        except BrokenPipeError:
            self._silence()
        return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._silence()

    def _silence(self) -> None:
        _to_devnull(self._stream.fileno())
        # What is still buffered goes to the null device on the next flush.
        with contextlib.suppress(OSError):
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _quiet_stderr() -> None:
    if not isinstance(sys.stderr, _QuietStderr):
        sys.stderr = cast(TextIO, _QuietStderr(sys.stderr))


def _stdout_gone() -> bool:
    """Whether stdout is a pipe nobody reads any more (a BrokenPipeError can come from a socket too)."""
    if not hasattr(select, "poll"):
        return True  # no way to ask (Windows): stdout is by far the likeliest
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False


def _write_line(stream: TextIO, line: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        stream.write(line + "\n")
        stream.flush()


def run_as_unix_tool(command: Callable[[], int]) -> int:
    """Runs a CLI command with the conventions above; returns its exit code."""
    signal.signal(signal.SIGINT, _on_sigint)
    _quiet_stderr()
    try:
        try:
            code = command()
        except SystemExit:  # argparse's --help and usage errors print, then exit with their code
            _flush_stdout_quietly()
            raise
        sys.stdout.flush()  # a broken pipe found here is handled below, not at interpreter exit
        return code
    except BrokenPipeError:
        if not _stdout_gone():
            raise
        _to_devnull(sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as exc:
        _flush_stdout_quietly()
        note = str(exc) if isinstance(exc, Interrupted) and str(exc) else "interrupted"
        _write_line(sys.stderr, f"error: {note}")
        return INTERRUPTED_EXIT


def _flush_stdout_quietly() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        # Pointed at the null device, so the interpreter's last flush cannot fail again.
        _to_devnull(sys.stdout.fileno())
