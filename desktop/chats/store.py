"""Conversations in SQLite: WAL mode, numbered migrations under ``PRAGMA user_version``.

A reply is written while it streams (see ``ReplyRecorder``), so a crash loses at most
the last moment of it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.clock import utc_stamp
from desktop.db import BUSY_TIMEOUT_S, Database, Migration, Schema, StorageError, open_database

# Each migration is a name and its statements, run in one transaction; the schema's number
# is PRAGMA user_version. Statements are listed one by one (a trigger body holds ";").
MIGRATIONS: list[tuple[str, tuple[str, ...]]] = [
    (
        "conversations and messages",
        (
            """CREATE TABLE conversations (
                id INTEGER PRIMARY KEY,
                title TEXT NOT NULL,
                model TEXT,
                created TEXT NOT NULL,
                updated TEXT NOT NULL
            )""",
            """CREATE TABLE messages (
                id INTEGER PRIMARY KEY,
                conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
                content TEXT NOT NULL,
                created TEXT NOT NULL,
                model TEXT,
                stats TEXT,
                complete INTEGER NOT NULL DEFAULT 1
            )""",
            "CREATE INDEX messages_by_conversation ON messages(conversation_id, id)",
            "CREATE INDEX conversations_by_update ON conversations(updated)",
        ),
    ),
    (
        "full-text search over messages",
        (
            "CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id')",
            "INSERT INTO messages_fts(rowid, content) SELECT id, content FROM messages",
            """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
                INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
            END""",
            """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
                INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
            END""",
            """CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
                INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
                INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
            END""",
        ),
    ),
    (
        "branches, per-conversation settings and system-prompt presets",
        (
            # Messages form a tree: editing or regenerating adds a sibling; leaf_id marks
            # the end of the branch on screen (NULL: the newest message).
            "ALTER TABLE messages ADD COLUMN parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE",
            """UPDATE messages SET parent_id = (
                SELECT MAX(p.id) FROM messages p
                WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id)""",
            "CREATE INDEX messages_by_parent ON messages(parent_id)",
            "ALTER TABLE conversations ADD COLUMN leaf_id INTEGER",
            "ALTER TABLE conversations ADD COLUMN system_prompt TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE conversations ADD COLUMN settings TEXT",
            # A system prompt was a leading message; it is now the conversation's own.
            """UPDATE conversations SET system_prompt = (
                SELECT m.content FROM messages m WHERE m.conversation_id = conversations.id
                AND m.role = 'system' ORDER BY m.id LIMIT 1)
                WHERE EXISTS (SELECT 1 FROM messages m
                WHERE m.conversation_id = conversations.id AND m.role = 'system')""",
            """UPDATE messages SET parent_id = (
                SELECT s.parent_id FROM messages s WHERE s.id = messages.parent_id)
                WHERE parent_id IN (SELECT id FROM messages WHERE role = 'system')""",
            "DELETE FROM messages WHERE role = 'system'",
            """CREATE TABLE presets (
                name TEXT PRIMARY KEY,
                system_prompt TEXT NOT NULL,
                updated TEXT NOT NULL
            )""",
        ),
    ),
]

CHATS_SCHEMA = Schema(
    label="chat history",
    fresh="a new chat history",
    application_id=0x48544331,  # "HTC1"
    tables=frozenset(
        {"conversations", "messages", "presets", "messages_fts"}
        | {f"messages_fts_{part}" for part in ("config", "data", "docsize", "idx")}
    ),
    migrations=tuple(Migration(name, statements) for name, statements in MIGRATIONS),
)

_LATEST = object()  # add_message's default parent: the end of the branch on screen


@dataclass(frozen=True)
class SearchHit:
    conversation_id: int
    message_id: int
    title: str
    role: str
    snippet: str  # the matching words between [ and ]


NewerHistory = StorageError  # the name older callers catch


def fts_query(text: str) -> str:
    """Words as FTS5 phrases: a person's quotes or operators never become a syntax error."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    model: str | None
    created: str
    updated: str
    system_prompt: str = ""
    settings: dict[str, Any] = field(default_factory=dict)  # see desktop.chats.chat_settings
    leaf_id: int | None = None


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: int
    role: str
    content: str
    created: str
    model: str | None
    stats: dict[str, Any] | None
    complete: bool  # False while a reply streams, or if it was cut off by a crash
    parent_id: int | None = None


@dataclass(frozen=True)
class Branching:
    """Where a message sits among its siblings (the other versions of that turn)."""

    index: int  # 0-based
    count: int
    sibling_ids: tuple[int, ...]


@dataclass(frozen=True)
class Preset:
    name: str
    system_prompt: str


def title_from(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


class ConversationStore:
    def __init__(self, path: Path, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        """Raises StorageError (the file untouched) when the history can't be used."""
        self.path = path
        self._db: Database = open_database(
            path, CHATS_SCHEMA, row_factory=sqlite3.Row, busy_timeout_s=busy_timeout_s
        )

    def close(self) -> None:
        self._db.close()

    @property
    def schema_version(self) -> int:
        return int(self._db.row("PRAGMA user_version")[0])

    # Conversations

    def create_conversation(
        self,
        *,
        model: str | None,
        title: str = "New chat",
        system_prompt: str = "",
        settings: dict[str, Any] | None = None,
    ) -> Conversation:
        stamp = utc_stamp("milliseconds")
        with self._db.transaction() as db:
            cur = db.execute(
                "INSERT INTO conversations (title, model, created, updated, system_prompt, settings) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (title, model, stamp, stamp, system_prompt, json.dumps(settings) if settings else None),
            )
        return Conversation(
            int(cur.lastrowid or 0), title, model, stamp, stamp, system_prompt, dict(settings or {})
        )

    def conversation(self, conversation_id: int) -> Conversation | None:
        row = self._db.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return _conversation(row) if row else None

    def conversations(self) -> list[Conversation]:
        rows = self._db.execute("SELECT * FROM conversations ORDER BY updated DESC, id DESC").fetchall()
        return [_conversation(r) for r in rows]

    def set_model(self, conversation_id: int, model: str | None) -> None:
        with self._db.transaction() as db:
            db.execute("UPDATE conversations SET model = ? WHERE id = ?", (model, conversation_id))

    def rename(self, conversation_id: int, title: str) -> None:
        title = " ".join(title.split()) or "New chat"
        with self._db.transaction() as db:
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def set_system_prompt(self, conversation_id: int, text: str) -> None:
        with self._db.transaction() as db:
            db.execute("UPDATE conversations SET system_prompt = ? WHERE id = ?", (text, conversation_id))

    def set_settings(self, conversation_id: int, settings: dict[str, Any]) -> None:
        with self._db.transaction() as db:
            db.execute(
                "UPDATE conversations SET settings = ? WHERE id = ?", (json.dumps(settings), conversation_id)
            )

    def delete_conversation(self, conversation_id: int) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def duplicate_conversation(self, conversation_id: int) -> Conversation:
        """A copy with every branch, showing the same branch as the original."""
        original = self.conversation(conversation_id)
        if original is None:
            raise KeyError(conversation_id)
        stamp = utc_stamp("milliseconds")
        title = f"{original.title} (copy)"
        with self._db.transaction() as db:
            cur = db.execute(
                "INSERT INTO conversations (title, model, created, updated, system_prompt, settings) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (title, original.model, stamp, stamp, original.system_prompt, json.dumps(original.settings)),
            )
            new_id = int(cur.lastrowid or 0)
            new_ids: dict[int, int] = {}
            rows = db.execute(
                "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
            ).fetchall()
            for row in rows:  # ids grow, so a parent is always copied before its children
                parent = new_ids.get(row["parent_id"]) if row["parent_id"] is not None else None
                copied = db.execute(
                    "INSERT INTO messages (conversation_id, role, content, created, model, stats, "
                    "complete, parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        new_id,
                        row["role"],
                        row["content"],
                        row["created"],
                        row["model"],
                        row["stats"],
                        row["complete"],
                        parent,
                    ),
                )
                new_ids[row["id"]] = int(copied.lastrowid or 0)
            leaf = new_ids.get(original.leaf_id) if original.leaf_id is not None else None
            db.execute("UPDATE conversations SET leaf_id = ? WHERE id = ?", (leaf, new_id))
        return Conversation(
            new_id, title, original.model, stamp, stamp, original.system_prompt, dict(original.settings), leaf
        )

    def search(self, text: str, limit: int = 50, *, window: int = 2000) -> list[SearchHit]:
        """Messages matching every word, best first, with the words marked in a snippet.

        Ranking every match of a common word costs about 3 µs a message (bm25 over 100,000
        messages: 300 ms), so only the newest ``window`` matches are ranked.
        """
        query = fts_query(text)
        if not query:
            return []
        rows = self._db.execute(
            "SELECT m.conversation_id, m.id, c.title, m.role, "
            "snippet(messages_fts, 0, '[', ']', '…', 12) "
            "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
            "JOIN conversations c ON c.id = m.conversation_id "
            "WHERE messages_fts MATCH ?1 AND messages_fts.rowid >= COALESCE(("
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 "
            "ORDER BY rowid DESC LIMIT 1 OFFSET ?3), 0) "
            "ORDER BY rank LIMIT ?2",
            (query, limit, window - 1),
        ).fetchall()
        return [SearchHit(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def has_messages(self) -> bool:
        """Whether any conversation has a message (one query, for the first-run check)."""
        return bool(self._db.execute("SELECT EXISTS (SELECT 1 FROM messages)").fetchone()[0])

    def message_count(self, conversation_id: int) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (conversation_id,))
        return int(row.fetchone()[0])

    # Presets (saved system prompts)

    def presets(self) -> list[Preset]:
        rows = self._db.execute("SELECT name, system_prompt FROM presets ORDER BY name COLLATE NOCASE")
        return [Preset(r[0], r[1]) for r in rows.fetchall()]

    def save_preset(self, name: str, system_prompt: str) -> Preset:
        name = " ".join(name.split())
        if not name:
            raise ValueError("A preset needs a name.")
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO presets (name, system_prompt, updated) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET system_prompt = excluded.system_prompt, "
                "updated = excluded.updated",
                (name, system_prompt, utc_stamp("milliseconds")),
            )
        return Preset(name, system_prompt)

    def delete_preset(self, name: str) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM presets WHERE name = ?", (name,))

    # Messages

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        model: str | None = None,
        complete: bool = True,
        parent_id: int | object | None = _LATEST,
    ) -> Message:
        """Adds a message after ``parent_id`` (default: the end of the branch on screen) and shows it."""
        stamp = utc_stamp("milliseconds")
        with self._db.transaction() as db:
            parent = self._leaf(conversation_id) if parent_id is _LATEST else parent_id
            cur = db.execute(
                "INSERT INTO messages (conversation_id, role, content, created, model, complete, parent_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, stamp, model, int(complete), parent),
            )
            message_id = int(cur.lastrowid or 0)
            db.execute(
                "UPDATE conversations SET updated = ?, leaf_id = ? WHERE id = ?",
                (stamp, message_id, conversation_id),
            )
            if role == "user":
                # The first thing a person asks is the best default title.
                db.execute(
                    "UPDATE conversations SET title = ? WHERE id = ? AND title = 'New chat'",
                    (title_from(content), conversation_id),
                )
        assert parent is None or isinstance(parent, int)
        return Message(message_id, conversation_id, role, content, stamp, model, None, complete, parent)

    def update_message(
        self, message_id: int, content: str, *, stats: dict[str, Any] | None = None, complete: bool
    ) -> None:
        with self._db.transaction() as db:
            db.execute(
                "UPDATE messages SET content = ?, stats = ?, complete = ? WHERE id = ?",
                (content, json.dumps(stats) if stats is not None else None, int(complete), message_id),
            )

    def delete_message(self, message_id: int) -> None:
        """Deletes a message and what followed it; its parent ends the branch on screen if it did."""
        message = self.message(message_id)
        if message is None:
            return
        with self._db.transaction() as db:
            db.execute("DELETE FROM messages WHERE id = ?", (message_id,))  # children cascade
            db.execute(
                "UPDATE conversations SET leaf_id = ? WHERE id = ? AND leaf_id IS NOT NULL AND leaf_id != 0 "
                "AND leaf_id NOT IN (SELECT id FROM messages)",
                (message.parent_id or 0, message.conversation_id),
            )

    def message(self, message_id: int) -> Message | None:
        row = self._db.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return _message(row) if row else None

    def _leaf(self, conversation_id: int) -> int | None:
        row = self._db.execute(
            "SELECT COALESCE(c.leaf_id, (SELECT MAX(id) FROM messages WHERE conversation_id = c.id)) "
            "FROM conversations c WHERE c.id = ?",
            (conversation_id,),
        ).fetchone()
        # 0 is rewind_to's mark for "before the first message".
        return int(row[0]) if row and row[0] else None

    def messages(self, conversation_id: int) -> list[Message]:
        """The branch on screen, oldest first."""
        leaf = self._leaf(conversation_id)
        if leaf is None:
            return []
        rows = self._db.execute(
            # The parent through a scalar subquery: a join in the recursive step gets a Bloom
            # filter built at every step (SQLite 3.40), 45 µs a message: 45 ms for 1,000.
            "WITH RECURSIVE branch(id) AS (SELECT ? UNION ALL "
            "SELECT (SELECT parent_id FROM messages WHERE id = b.id) FROM branch b WHERE b.id IS NOT NULL) "
            "SELECT messages.* FROM branch JOIN messages USING (id) ORDER BY messages.id",
            (leaf,),
        ).fetchall()
        return [_message(r) for r in rows]

    def all_messages(self, conversation_id: int) -> list[Message]:
        """Every message of every branch, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        ).fetchall()
        return [_message(r) for r in rows]

    def branching(self, conversation_id: int) -> dict[int, Branching]:
        """For each message that has other versions: which one it is, of how many."""
        children: dict[int | None, list[int]] = {}
        for message_id, parent in self._db.execute(
            "SELECT id, parent_id FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        ):
            children.setdefault(parent, []).append(message_id)
        result: dict[int, Branching] = {}
        for siblings in children.values():
            if len(siblings) > 1:
                for index, message_id in enumerate(siblings):
                    result[message_id] = Branching(index, len(siblings), tuple(siblings))
        return result

    def show_branch(self, message_id: int) -> None:
        """Shows the branch through ``message_id``, down its newest replies."""
        message = self.message(message_id)
        if message is None:
            raise KeyError(message_id)
        leaf = message_id
        while True:
            row = self._db.execute("SELECT MAX(id) FROM messages WHERE parent_id = ?", (leaf,)).fetchone()
            if row[0] is None:
                break
            leaf = int(row[0])
        with self._db.transaction() as db:
            db.execute("UPDATE conversations SET leaf_id = ? WHERE id = ?", (leaf, message.conversation_id))

    def rewind_to(self, conversation_id: int, message_id: int | None) -> None:
        """Shows the branch ending at ``message_id`` (None: before the first message), to add after it."""
        with self._db.transaction() as db:
            db.execute(
                "UPDATE conversations SET leaf_id = ? WHERE id = ?",
                (message_id if message_id is not None else 0, conversation_id),
            )


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(
        row["id"],
        row["title"],
        row["model"],
        row["created"],
        row["updated"],
        row["system_prompt"],
        json.loads(row["settings"]) if row["settings"] else {},
        row["leaf_id"],
    )


def _message(row: sqlite3.Row) -> Message:
    return Message(
        row["id"],
        row["conversation_id"],
        row["role"],
        row["content"],
        row["created"],
        row["model"],
        json.loads(row["stats"]) if row["stats"] else None,
        bool(row["complete"]),
        row["parent_id"],
    )


class ReplyRecorder:
    """Saves a streaming reply as it grows: at most every ``interval`` seconds, and at the end."""

    def __init__(
        self,
        store: ConversationStore,
        conversation_id: int,
        *,
        model: str | None,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._clock = clock
        self._interval = interval
        self.message = store.add_message(conversation_id, "assistant", "", model=model, complete=False)
        self._parts: list[str] = []
        self._unsaved = False
        self._last_save = clock()

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def add(self, text: str) -> None:
        self._parts.append(text)
        self._unsaved = True
        if self._clock() - self._last_save >= self._interval:
            self._save()

    def _save(self) -> None:
        self._store.update_message(self.message.id, self.text, complete=False)
        self._last_save = self._clock()
        self._unsaved = False

    def flush(self) -> None:
        """Saves what arrived since the last save, if anything did (called when the stream pauses)."""
        if self._unsaved:
            self._save()

    def finish(self, stats: dict[str, Any] | None) -> None:
        self._store.update_message(self.message.id, self.text, stats=stats, complete=True)
