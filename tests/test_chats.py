from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop.chats.store import MIGRATIONS, ConversationStore, ReplyRecorder
from desktop.db import StorageError


def test_schema_after_migrations(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "chats.sqlite3")
    assert store.schema_version == len(MIGRATIONS)
    store.close()
    db = sqlite3.connect(tmp_path / "chats.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"conversations", "messages"} <= tables
    columns = {r[1] for r in db.execute("PRAGMA table_info(messages)")}
    assert columns >= {"conversation_id", "role", "content", "created", "model", "stats", "complete"}


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite3"
    ConversationStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StorageError, match="newer Hearth"):
        ConversationStore(path)


def test_conversation_survives_reopen_and_title_comes_from_first_message(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite3"
    store = ConversationStore(path)
    chat = store.create_conversation(model="/models/a.gguf")
    store.add_message(chat.id, "user", "How do   hearths\nwork?")
    store.add_message(chat.id, "assistant", "Warmly.", model="/models/a.gguf")
    later = store.create_conversation(model=None)
    store.close()

    store = ConversationStore(path)
    assert [c.id for c in store.conversations()] == [later.id, chat.id]
    reopened = store.conversation(chat.id)
    assert reopened is not None and reopened.title == "How do hearths work?"
    assert [(m.role, m.content) for m in store.messages(chat.id)] == [
        ("user", "How do   hearths\nwork?"),
        ("assistant", "Warmly."),
    ]


def test_reply_is_saved_while_it_streams(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite3"
    store = ConversationStore(path)
    chat = store.create_conversation(model=None)
    now = [0.0]
    recorder = ReplyRecorder(store, chat.id, model="m.gguf", interval=0.5, clock=lambda: now[0])
    recorder.add("Hello")
    # Another connection (as after a crash) sees nothing yet: the save interval has not passed.
    other = ConversationStore(path)
    assert other.messages(chat.id)[0].content == ""
    now[0] = 0.6
    recorder.add(", world")
    saved = other.messages(chat.id)[0]
    assert (saved.content, saved.complete) == ("Hello, world", False)
    recorder.add("!")
    recorder.finish({"completion_tokens": 3})
    final = other.messages(chat.id)[0]
    assert (final.content, final.complete, final.stats) == ("Hello, world!", True, {"completion_tokens": 3})


def test_search_finds_words_and_survives_odd_input(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "chats.sqlite3")
    a = store.create_conversation(model=None)
    store.add_message(a.id, "user", "How do I bake sourdough bread?")
    b = store.create_conversation(model=None)
    store.add_message(b.id, "user", "Tell me about rivers")
    reply = store.add_message(b.id, "assistant", "", complete=False)
    store.update_message(reply.id, "The longest river flows past bread-loving towns.", complete=True)
    hits = store.search("bread")
    assert {h.conversation_id for h in hits} == {a.id, b.id}
    assert any("[bread]" in h.snippet for h in hits)
    assert [h.conversation_id for h in store.search("sourdough bread")] == [a.id]
    assert store.search('"unbalanced AND (') == [] and store.search("   ") == []
    store.delete_conversation(a.id)
    assert [h.conversation_id for h in store.search("bread")] == [b.id]  # gone from the index too


def test_migrating_an_old_history_indexes_what_it_had(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite3"
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0][1]:
        db.execute(statement)
    db.execute("INSERT INTO conversations VALUES (1, 'Old', NULL, 'x', 'x')")
    db.execute(
        "INSERT INTO messages (conversation_id, role, content, created) "
        "VALUES (1, 'user', 'ancient words', 'x')"
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    store = ConversationStore(path)
    assert store.schema_version == len(MIGRATIONS)
    assert [h.title for h in store.search("ancient")] == ["Old"]


def test_duplicate_and_export(tmp_path: Path) -> None:
    from desktop.chats.export import to_json, to_markdown

    store = ConversationStore(tmp_path / "chats.sqlite3")
    chat = store.create_conversation(model="/m/tiny.gguf")
    store.add_message(chat.id, "user", "Hi")
    store.add_message(chat.id, "assistant", "Hello!", model="/m/tiny.gguf")
    copy = store.duplicate_conversation(chat.id)
    assert copy.title == "Hi (copy)" and [m.content for m in store.messages(copy.id)] == ["Hi", "Hello!"]
    conversation = store.conversation(chat.id)
    assert conversation is not None
    data = to_json(conversation, store.messages(chat.id))
    assert data["id"] == str(chat.id) and data["title"] == "Hi" and data["model"] == "/m/tiny.gguf"
    assert [(m["role"], m["content"]) for m in data["messages"]] == [("user", "Hi"), ("assistant", "Hello!")]
    assert set(data["messages"][0]) == {"role", "content", "created", "model", "stats"}
    md = to_markdown(conversation, store.messages(chat.id))
    assert md.startswith("# Hi\n") and "## You\n\nHi\n" in md and "## Assistant (tiny)\n\nHello!" in md
