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


def mode_of(session: ChatSession) -> str:
    return session.settings.mode  # read afresh each time (mypy would narrow the property)


def test_a_base_model_opens_chats_in_notebook_mode_and_the_mode_is_kept_per_model(
    model_cache: Callable[..., Path], tmp_path: Path
) -> None:
    from desktop.app.chat_session import SettingsModes
    from desktop.settings import Settings, SettingsStore

    base = model_cache("base-model.gguf", chat_template=None)
    settings = SettingsStore(Settings())
    saved: list[dict[str, str]] = []
    modes = SettingsModes(settings, lambda s: saved.append(dict(s.model_modes)))
    store = ConversationStore(tmp_path / "chats.sqlite3")
    notices: list[tuple[str, str]] = []
    engine = ClientEngine.started()
    try:
        session = ChatSession(store, engine, SessionEvents(notice=lambda *n: notices.append(n)), modes)
        session.new_chat()
        session.on_loaded(engine.load(LoadOptions(str(base))))
        assert mode_of(session) == "notebook"  # by itself: the model has no chat template
        assert "no chat template" in notices[-1][1] and 'href="hearth:chat"' in notices[-1][1]
        session.follow_link("hearth:chat")  # the person wants chat with it after all
        assert mode_of(session) == "chat" and saved[-1] == {str(base): "chat"}
        assert session.send("Hello")
        engine.pump(session)
        session.new_chat()  # the model's next chat starts in the mode chosen for it
        assert mode_of(session) == "chat"
        session.set_mode("notebook")
        session.send("Once upon a time")
        engine.pump(session)
        session.new_chat()
        assert mode_of(session) == "notebook" and saved[-1] == {str(base): "notebook"}
    finally:
        engine.client.shutdown()
        store.close()
