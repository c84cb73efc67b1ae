"""The history of speed and quality runs, saved side-by-side comparisons and arena votes (SQLite).

Each run is kept with the machine it ran on (CPU, memory, the llama.cpp build and its
devices), so figures from different days and machines can be told apart. The app and the
CLI may write at the same time (WAL, a busy timeout).
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.clock import utc_stamp
from desktop.compare.leaderboard import OUTCOMES, Vote
from desktop.db import Migration, Schema, open_database
from desktop.engine.hardware import cpu_name
from desktop.gguf.fit import system_memory_bytes

COMPARE_SCHEMA = Schema(
    label="comparison history",
    fresh="a new comparison history",
    application_id=0x48545031,  # "HTP1"
    tables=frozenset({"runs", "results", "comparisons", "votes"}),
    migrations=(
        # Before numbered migrations the tables were made IF NOT EXISTS at each open: a file of
        # that shape is adopted by this first step.
        Migration(
            "runs, results, comparisons and votes",
            (
                """CREATE TABLE IF NOT EXISTS runs (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL,              -- 'bench' or 'eval'
                    created TEXT NOT NULL,
                    machine TEXT NOT NULL,           -- JSON: cpu, cores, memory, platform, llama.cpp build
                    settings TEXT NOT NULL           -- JSON: reps, n_ctx, reference, text source ...
                )""",
                """CREATE TABLE IF NOT EXISTS results (
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    model TEXT NOT NULL,             -- the file's path
                    name TEXT NOT NULL,
                    quant TEXT,
                    size_bytes INTEGER,
                    metrics TEXT NOT NULL            -- JSON: pp_tps, tg_tps ... or ppl, kld_mean ...
                )""",
                """CREATE TABLE IF NOT EXISTS comparisons (
                    id INTEGER PRIMARY KEY,
                    created TEXT NOT NULL,
                    title TEXT NOT NULL,
                    content TEXT NOT NULL            -- JSON: models, sampling, turns with each column's reply
                )""",
                """CREATE TABLE IF NOT EXISTS votes (
                    id INTEGER PRIMARY KEY,
                    created TEXT NOT NULL,
                    category TEXT NOT NULL,
                    prompt TEXT NOT NULL,
                    model_a TEXT NOT NULL,
                    model_b TEXT NOT NULL,
                    outcome TEXT NOT NULL
                )""",
            ),
        ),
    ),
)


def machine_info(task_result: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a run's figures depend on: this machine, and the llama.cpp build and devices the
    engine worker reported with its result."""
    result = task_result or {}
    cpu = cpu_name()
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count() or 0,
        "memory_bytes": system_memory_bytes(),
        "platform": platform.platform(terse=True),
        "llama_cpp": str(result.get("build_info", "")),
        "devices": list(result.get("devices", [])),
    }


@dataclass(frozen=True)
class RunRow:
    run_id: int
    kind: str
    created: str
    machine: dict[str, Any]
    settings: dict[str, Any]
    model: str
    name: str
    quant: str | None
    size_bytes: int | None
    metrics: dict[str, Any]


class CompareStore:
    def __init__(self, db_path: Path) -> None:
        """Raises StorageError (the file untouched) when the history can't be used."""
        self._db = open_database(db_path, COMPARE_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def check_writable(self) -> None:
        """Raises StorageError now if a run could not be kept (locked, read-only, full)."""
        with self._db.transaction():
            pass

    # Runs

    def add_run(
        self,
        kind: str,
        machine: dict[str, Any],
        settings: dict[str, Any],
        rows: Sequence[tuple[str, str, str | None, int | None, dict[str, Any]]],
    ) -> int:
        """``rows``: (path, name, quant, size, metrics) for each model measured."""
        with self._db.transaction():
            cursor = self._db.execute(
                "INSERT INTO runs (kind, created, machine, settings) VALUES (?, ?, ?, ?)",
                (kind, utc_stamp(), json.dumps(machine), json.dumps(settings)),
            )
            run_id = int(cursor.lastrowid or 0)
            self._db.executemany(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (run_id, path, name, quant, size, json.dumps(metrics))
                    for path, name, quant, size, metrics in rows
                ],
            )
        return run_id

    def history(self, kind: str | None = None) -> list[RunRow]:
        """Every result, newest run first."""
        query = (
            "SELECT r.id, r.kind, r.created, r.machine, r.settings, x.model, x.name, x.quant, x.size_bytes,"
            " x.metrics FROM runs r JOIN results x ON x.run_id = r.id"
            + (" WHERE r.kind = ?" if kind else "")
            + " ORDER BY r.id DESC, x.rowid"
        )
        rows = self._db.rows(query, (kind,) if kind else ())
        return [
            RunRow(
                int(r[0]),
                r[1],
                r[2],
                json.loads(r[3]),
                json.loads(r[4]),
                r[5],
                r[6],
                r[7],
                r[8],
                json.loads(r[9]),
            )
            for r in rows
        ]

    def delete_run(self, run_id: int) -> None:
        self._db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    # Side-by-side comparisons

    def save_comparison(self, title: str, content: dict[str, Any], comparison_id: int | None = None) -> int:
        if comparison_id is None:
            cursor = self._db.execute(
                "INSERT INTO comparisons (created, title, content) VALUES (?, ?, ?)",
                (utc_stamp(), title, json.dumps(content)),
            )
            return int(cursor.lastrowid or 0)
        self._db.execute(
            "UPDATE comparisons SET title = ?, content = ? WHERE id = ?",
            (title, json.dumps(content), comparison_id),
        )
        return comparison_id

    def comparisons(self) -> list[tuple[int, str, str]]:
        """(id, created, title), newest first."""
        rows = self._db.rows("SELECT id, created, title FROM comparisons ORDER BY id DESC")
        return [(int(r[0]), r[1], r[2]) for r in rows]

    def comparison(self, comparison_id: int) -> dict[str, Any] | None:
        row = self._db.row("SELECT content FROM comparisons WHERE id = ?", (comparison_id,))
        return json.loads(row[0]) if row else None

    # Arena

    def add_vote(self, vote: Vote, prompt: str) -> None:
        if vote.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {vote.outcome!r}")
        self._db.execute(
            "INSERT INTO votes (created, category, prompt, model_a, model_b, outcome)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (utc_stamp(), vote.category, prompt, vote.model_a, vote.model_b, vote.outcome),
        )

    def votes(self) -> list[Vote]:
        rows = self._db.rows("SELECT model_a, model_b, outcome, category FROM votes ORDER BY id")
        return [Vote(r[0], r[1], r[2], r[3]) for r in rows]


def to_csv(rows: list[RunRow]) -> str:
    """One line a model a run; the metrics' columns are the union over the rows."""
    metric_names: list[str] = []
    for row in rows:
        metric_names += [
            k for k in row.metrics if k not in metric_names and not isinstance(row.metrics[k], list)
        ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["run", "kind", "created", "model", "quant", "size_bytes", *metric_names, "cpu", "llama_cpp"]
    )
    for row in rows:
        writer.writerow(
            [
                row.run_id,
                row.kind,
                row.created,
                row.name,
                row.quant or "",
                row.size_bytes if row.size_bytes is not None else "",
                *(row.metrics.get(name, "") for name in metric_names),
                row.machine.get("cpu", ""),
                row.machine.get("llama_cpp", ""),
            ]
        )
    return out.getvalue()


def to_json(rows: list[RunRow]) -> str:
    from dataclasses import asdict

    return json.dumps([asdict(r) for r in rows], indent=2)
