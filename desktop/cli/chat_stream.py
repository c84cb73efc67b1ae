"""One streamed reply of ``hearth chat``: shown as it comes, kept as it is shown."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Any

from desktop.chats.store import ReplyRecorder
from desktop.cli.unix import end_streamed_line, held_interrupts
from desktop.engine.client import EngineClient
from desktop.engine.protocol import GenerationStats


def stream_reply(client: EngineClient, request: str, recorder: ReplyRecorder) -> None:
    """Streams one reply to stdout and finishes its record.

    A Ctrl+C, or a reader that stops reading, cancels the generation and keeps the reply as far
    as it was shown, marked as stopped, as the app's Stop does.
    """
    stats: dict[str, Any] | None = None
    shown = 0
    try:
        for event in client.stream(request, on_idle=recorder.flush):
            if isinstance(event, GenerationStats):
                stats = {k: v for k, v in asdict(event).items() if k != "text"}
                continue
            with held_interrupts():  # a token shown is a token kept
                recorder.add(event.text)
                sys.stdout.write(event.text)
                sys.stdout.flush()
                shown += 1
    except (KeyboardInterrupt, BrokenPipeError):
        client.cancel(request)
        recorder.finish({"stop_reason": "cancelled", "completion_tokens": shown})
        end_streamed_line()
        raise
    recorder.finish(stats)
