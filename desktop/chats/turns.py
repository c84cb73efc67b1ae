"""What a conversation sends to the engine: its system prompt, then the branch on screen."""

from __future__ import annotations

from collections.abc import Sequence

from desktop.chats.chat_settings import ChatSettings
from desktop.chats.store import Conversation, Message
from desktop.engine.protocol import ChatMessage


def engine_messages(conversation: Conversation, messages: Sequence[Message]) -> list[ChatMessage]:
    settings = ChatSettings.from_dict(conversation.settings)
    turns = [ChatMessage(m.role, m.content) for m in messages if m.content]
    if settings.mode == "chat" and conversation.system_prompt.strip():
        turns.insert(0, ChatMessage("system", conversation.system_prompt))
    return turns


def engine_mode(conversation: Conversation) -> str:
    return "complete" if ChatSettings.from_dict(conversation.settings).mode == "notebook" else "chat"
