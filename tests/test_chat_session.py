"""A conversation without a window (desktop.app.chat_session): the real engine worker behind a
small blocking port, the real store; what the window's ChatController adapts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop.app.chat_session import ChatSession, SessionEvents
from desktop.app.client_engine import ClientEngine
from desktop.chats.chat_settings import ChatSettings
from desktop.chats.store import ConversationStore
from desktop.engine.client import EngineClient
from desktop.engine.protocol import (
    LoadOptions,
)
from tests.news import News


@pytest.fixture
def engine(model_cache: Callable[..., Path]) -> Iterator[ClientEngine]:
    client = EngineClient()
    port = ClientEngine(client)
    client.load(LoadOptions(str(model_cache("tiny-chat.gguf", sampling=(("temp", 0.6),)))))
    port.model = client.wait_loaded()
    yield port
    client.shutdown()


def test_a_conversation_sends_streams_saves_and_regenerates(engine: ClientEngine, tmp_path: Path) -> None:
    news = News()
    note = news.note
    store = ConversationStore(tmp_path / "chats.sqlite3")
    session = ChatSession(
        store,
        engine,
        SessionEvents(
            user_message=note("user"),
            reply_started=note("started"),
            reply_text=note("text"),
            reply_finished=note("finished"),
            notice=note("notice"),
            busy_changed=note("busy"),
        ),
    )
    session.open_latest(None)  # a new chat
    assert engine.model is not None
    session.on_loaded(engine.model)
    assert session.recommended == {"temperature": pytest.approx(0.6)}
    session.update_settings("Be brief.", ChatSettings(sampling={"max_tokens": 6}))

    assert session.send("Hello there")
    assert session.busy and not session.send("Another")  # one reply at a time
    engine.pump(session)
    assert news[-1] == ("busy", False)
    kinds = news.kinds("notice")
    assert kinds[:3] == ["user", "started", "busy"] and kinds.count("finished") == 1
    streamed = "".join(str(text) for kind, text in news if kind == "text")
    assert session.conversation is not None
    saved = store.messages(session.conversation.id)
    assert [m.role for m in saved] == ["user", "assistant"] and saved[1].content == streamed
    assert saved[1].stats is not None and saved[1].stats["completion_tokens"] == 6

    assert session.regenerate()  # a new reply; the first stays as a branch
    engine.pump(session)
    again = store.messages(session.conversation.id)
    assert [m.role for m in again] == ["user", "assistant"] and again[1].id != saved[1].id
    assert store.branching(session.conversation.id)  # two replies to choose between
    store.close()


def test_without_a_model_nothing_is_sent_and_it_says_so(engine: ClientEngine, tmp_path: Path) -> None:
    notices: list[str] = []
    engine.model = None
    store = ConversationStore(tmp_path / "chats.sqlite3")
    session = ChatSession(store, engine, SessionEvents(notice=lambda level, text: notices.append(text)))
    assert not session.send("Hello")
    assert notices == ["Load a model from the library first (select it, then Load)."]
    assert session.conversation is None or not store.messages(session.conversation.id)
    store.close()
