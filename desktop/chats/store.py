"""Conversations in SQLite: WAL mode, numbered migrations under ``PRAGMA user_version``.

A reply is written while it streams (see ``ReplyRecorder``), so a crash loses at most
the last moment of it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
]


@dataclass(frozen=True)
class SearchHit:
    conversation_id: int
    message_id: int
    title: str
    role: str
    snippet: str  # the matching words between [ and ]


def fts_query(text: str) -> str:
    """Words as FTS5 phrases: a person's quotes or operators never become a syntax error."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    model: str | None
    created: str
    updated: str


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


def title_from(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


class ConversationStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"The chat history was written by a newer Hearth (schema {version}); "
                "update Hearth to open it."
            )
        for number, (_name, statements) in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._transaction() as db:
                for statement in statements:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # Conversations

    def create_conversation(self, *, model: str | None, title: str = "New chat") -> Conversation:
        stamp = now_iso()
        with self._transaction() as db:
            cur = db.execute(
                "INSERT INTO conversations (title, model, created, updated) VALUES (?, ?, ?, ?)",
                (title, model, stamp, stamp),
            )
        return Conversation(int(cur.lastrowid or 0), title, model, stamp, stamp)

    def conversation(self, conversation_id: int) -> Conversation | None:
        row = self._db.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return _conversation(row) if row else None

    def conversations(self) -> list[Conversation]:
        rows = self._db.execute("SELECT * FROM conversations ORDER BY updated DESC, id DESC").fetchall()
        return [_conversation(r) for r in rows]

    def set_model(self, conversation_id: int, model: str | None) -> None:
        with self._transaction() as db:
            db.execute("UPDATE conversations SET model = ? WHERE id = ?", (model, conversation_id))

    def delete_conversation(self, conversation_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def duplicate_conversation(self, conversation_id: int) -> Conversation:
        original = self.conversation(conversation_id)
        if original is None:
            raise KeyError(conversation_id)
        stamp = now_iso()
        with self._transaction() as db:
            cur = db.execute(
                "INSERT INTO conversations (title, model, created, updated) VALUES (?, ?, ?, ?)",
                (f"{original.title} (copy)", original.model, stamp, stamp),
            )
            new_id = int(cur.lastrowid or 0)
            db.execute(
                "INSERT INTO messages (conversation_id, role, content, created, model, stats, complete) "
                "SELECT ?, role, content, created, model, stats, complete FROM messages "
                "WHERE conversation_id = ? ORDER BY id",
                (new_id, conversation_id),
            )
        return Conversation(new_id, f"{original.title} (copy)", original.model, stamp, stamp)

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Messages matching every word, best first, with the words marked in a snippet."""
        query = fts_query(text)
        if not query:
            return []
        rows = self._db.execute(
            "SELECT m.conversation_id, m.id, c.title, m.role, "
            "snippet(messages_fts, 0, '[', ']', '…', 12) "
            "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
            "JOIN conversations c ON c.id = m.conversation_id "
            "WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?",
            (query, limit),
        ).fetchall()
        return [SearchHit(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def message_count(self, conversation_id: int) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (conversation_id,))
        return int(row.fetchone()[0])

    # Messages

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        model: str | None = None,
        complete: bool = True,
    ) -> Message:
        stamp = now_iso()
        with self._transaction() as db:
            cur = db.execute(
                "INSERT INTO messages (conversation_id, role, content, created, model, complete) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, stamp, model, int(complete)),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (stamp, conversation_id))
            if role == "user":
                # The first thing a person asks is the best default title.
                db.execute(
                    "UPDATE conversations SET title = ? WHERE id = ? AND title = 'New chat'",
                    (title_from(content), conversation_id),
                )
        return Message(int(cur.lastrowid or 0), conversation_id, role, content, stamp, model, None, complete)

    def update_message(
        self, message_id: int, content: str, *, stats: dict[str, Any] | None = None, complete: bool
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE messages SET content = ?, stats = ?, complete = ? WHERE id = ?",
                (content, json.dumps(stats) if stats is not None else None, int(complete), message_id),
            )

    def message(self, message_id: int) -> Message | None:
        row = self._db.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return _message(row) if row else None

    def messages(self, conversation_id: int) -> list[Message]:
        rows = self._db.execute(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        ).fetchall()
        return [_message(r) for r in rows]


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(row["id"], row["title"], row["model"], row["created"], row["updated"])


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
        self._last_save = clock()

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def add(self, text: str) -> None:
        self._parts.append(text)
        if self._clock() - self._last_save >= self._interval:
            self._store.update_message(self.message.id, self.text, complete=False)
            self._last_save = self._clock()

    def finish(self, stats: dict[str, Any] | None) -> None:
        self._store.update_message(self.message.id, self.text, stats=stats, complete=True)
