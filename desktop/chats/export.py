"""A conversation as Markdown or as JSON (the shape in shared/CLI.md)."""

from __future__ import annotations

import json
from typing import Any, Literal

from desktop.chats.store import Conversation, Message
from desktop.gguf.names import model_name

ExportFormat = Literal["md", "json"]

ROLE_NAMES = {"user": "You", "assistant": "Assistant", "system": "System"}


def to_json(conversation: Conversation, messages: list[Message]) -> dict[str, Any]:
    return {
        "id": str(conversation.id),
        "title": conversation.title,
        "model": conversation.model,
        "created": conversation.created,
        "messages": [
            *(
                [
                    {
                        "role": "system",
                        "content": conversation.system_prompt,
                        "created": conversation.created,
                        "model": None,
                        "stats": None,
                    }
                ]
                if conversation.system_prompt
                else []
            ),
            *(
                {
                    "role": m.role,
                    "content": m.content,
                    "created": m.created,
                    "model": m.model,
                    "stats": m.stats,
                }
                for m in messages
            ),
        ],
    }


def to_markdown(conversation: Conversation, messages: list[Message]) -> str:
    lines = [f"# {conversation.title}", ""]
    if conversation.model:
        lines += [f"*Model: {conversation.model}*", ""]
    if conversation.system_prompt:
        lines += ["## System", "", conversation.system_prompt.rstrip(), ""]
    for m in messages:
        who = ROLE_NAMES.get(m.role, m.role)
        if m.role == "assistant" and m.model:
            who = f"{who} ({model_name(m.model)})"
        lines += [f"## {who}", "", m.content.rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def export_text(conversation: Conversation, messages: list[Message], fmt: ExportFormat) -> str:
    """The one export every front end writes, as UTF-8: the window's file and `hearth export`'s
    output of the same conversation are the same bytes."""
    if fmt == "json":
        return json.dumps(to_json(conversation, messages), indent=2, ensure_ascii=False) + "\n"
    return to_markdown(conversation, messages)
