"""Whether a model answers or continues text, in the words every list of models uses.

A GGUF with ``tokenizer.chat_template`` is made to answer; one without continues the text it
is given (a base model, usually) and Hearth opens it in notebook mode. The library, Discover
and the chat's model picker say so with these words, so a model reads the same everywhere.
"""

from __future__ import annotations

CHAT = "Chat"
TEXT_COMPLETION = "Text completion"
UNKNOWN = "Unknown"  # never a guess: said until the header has been read far enough

CHAT_TIP = "Has a chat template: made to answer"
TEXT_COMPLETION_TIP = "No chat template: it continues text rather than answering; it opens in notebook mode"


def kind_label(has_chat_template: bool | None) -> str:
    """The kind in a word or two; "Unknown" where the template was not reached (None)."""
    if has_chat_template is None:
        return UNKNOWN
    return CHAT if has_chat_template else TEXT_COMPLETION


def kind_tip(has_chat_template: bool | None) -> str | None:
    """What the label means; None for an unknown kind, whose reason the caller knows."""
    if has_chat_template is None:
        return None
    return CHAT_TIP if has_chat_template else TEXT_COMPLETION_TIP
