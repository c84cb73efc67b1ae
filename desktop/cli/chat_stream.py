"""``hearth chat``'s side of a ChatSession: replies shown as they come (and kept as shown), the
session's notices as ``note:`` lines, a failure as the command's error."""

from __future__ import annotations

import re
import sys

from desktop.app.chat_session import ChatSession, SessionEvents
from desktop.app.client_engine import ClientEngine
from desktop.cli.output import CommandFailed
from desktop.cli.unix import end_streamed_line, held_interrupts
from desktop.db import StorageError

_TAG = re.compile(r"<[^>]+>")  # the window's notices may hold a link; a terminal shows its words


class ChatOutput:
    def __init__(self) -> None:
        self._failure: str | None = None

    def events(self) -> SessionEvents:
        return SessionEvents(
            reply_text=self._write, notice=self._notice, storage_problem=self._storage_problem
        )

    def stream(self, engine: ClientEngine, session: ChatSession) -> None:
        """One reply, to its end. A Ctrl+C, or a reader that stops reading, stops the generation
        and keeps the reply as far as it was shown, marked as stopped, as the app's Stop does."""
        try:
            engine.pump(session, token_guard=held_interrupts)  # a token shown is a token kept
        except (KeyboardInterrupt, BrokenPipeError):
            session.stop_now()
            end_streamed_line()
            raise
        sys.stdout.write("\n")
        sys.stdout.flush()
        if self._failure is not None:
            raise CommandFailed(self._failure)

    def _write(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    def _notice(self, level: str, text: str) -> None:
        if level == "error":
            self._failure = self._failure or text
        elif text:
            print(f"note: {_TAG.sub('', text)}", file=sys.stderr)

    def _storage_problem(self, exc: StorageError) -> None:
        raise CommandFailed(str(exc)) from exc
