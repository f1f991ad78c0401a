"""Review decisions and annotator tokens in SQLite.

Decisions are append-only events (each keeps the value it replaced); the
`current` view is the latest event per (run, pair, annotator). WAL mode and a
busy timeout let many annotators write at once; each call opens its own
connection, so the store is safe to share between request threads.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, model_validator

Action = Literal["accept", "reject", "edit", "skip"]
Reason = Literal["still_leaks", "not_harmful", "image_mismatch", "wrong_category", "low_quality",
                 "unsafe_content_beyond_scope"]
REASONS: tuple[str, ...] = Reason.__args__
STORE_NAME = "review.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY, annotator TEXT NOT NULL, batches TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, batch_id TEXT NOT NULL,
    pair_id TEXT NOT NULL, annotator TEXT NOT NULL, action TEXT NOT NULL, reason TEXT,
    edited_query TEXT, new_leak_score REAL, previous_action TEXT, previous_reason TEXT,
    previous_query TEXT, at TEXT NOT NULL, source TEXT NOT NULL, request_id TEXT UNIQUE);
CREATE INDEX IF NOT EXISTS events_key ON events (run_id, pair_id, annotator);
CREATE VIEW IF NOT EXISTS current AS
    SELECT events.*, latest.history FROM events JOIN (
        SELECT MAX(id) AS last_id, COUNT(*) AS history FROM events GROUP BY run_id, pair_id, annotator
    ) AS latest ON events.id = latest.last_id;
"""


class DecisionIn(BaseModel):
    """What an annotator submits for one pair."""

    batch_id: str
    pair_id: str
    action: Action
    reason: Reason | None = None
    edited_query: str | None = None
    request_id: str | None = None  # idempotency key: a retried request is recorded once

    @model_validator(mode="after")
    def _consistent(self) -> DecisionIn:
        if self.action == "reject" and self.reason is None:
            raise ValueError("a reject needs a reason")
        if self.action == "edit" and not (self.edited_query or "").strip():
            raise ValueError("an edit needs the edited query")
        if self.action != "edit":
            self.edited_query = None
        if self.action != "reject":
            self.reason = None
        return self


class Event(BaseModel):
    id: int
    run_id: str
    batch_id: str
    pair_id: str
    annotator: str
    action: Action
    reason: str | None
    edited_query: str | None
    new_leak_score: float | None
    previous_action: str | None
    previous_reason: str | None
    previous_query: str | None
    at: str
    source: str
    request_id: str | None
    history: int = 1  # events so far for this (run, pair, annotator); set on rows of `current`


class Token(BaseModel):
    annotator: str
    batches: list[str]

    def allows(self, batch_id: str) -> bool:
        return batch_id in self.batches


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ReviewStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as db:
            db.executescript(SCHEMA)

    @classmethod
    def for_runs(cls, runs_dir: Path) -> ReviewStore:
        """One store per runs folder: batch ids carry their run id, so they never collide."""
        return cls(Path(runs_dir) / STORE_NAME)

    @contextmanager
    def connect(self):
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            yield db
        finally:
            db.close()

    def add_token(self, annotator: str, batches: list[str]) -> str:
        """A new token for the annotator, scoped to these batches; only its hash is stored."""
        if not annotator.strip() or not batches:
            raise ValueError("a token needs an annotator name and at least one batch")
        raw = secrets.token_urlsafe(24)
        with self.connect() as db:
            db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?)",
                       (hash_token(raw), annotator, json.dumps(sorted(set(batches))), now()))
        return raw

    def token(self, raw: str | None) -> Token | None:
        if not raw:
            return None
        with self.connect() as db:
            row = db.execute("SELECT annotator, batches FROM tokens WHERE token_hash = ?",
                             (hash_token(raw),)).fetchone()
        return Token(annotator=row["annotator"], batches=json.loads(row["batches"])) if row else None

    def tokens(self) -> list[Token]:
        with self.connect() as db:
            rows = db.execute("SELECT annotator, batches FROM tokens ORDER BY created").fetchall()
        return [Token(annotator=row["annotator"], batches=json.loads(row["batches"])) for row in rows]

    def record(self, decision: DecisionIn, *, annotator: str, run_id: str,
               new_leak_score: float | None = None, source: str = "web") -> Event:
        """Append one event; the previous current value rides along on it."""
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")  # take the write lock before reading the previous value
            try:
                if decision.request_id:
                    seen = db.execute("SELECT * FROM events WHERE request_id = ?",
                                      (decision.request_id,)).fetchone()
                    if seen:
                        db.execute("COMMIT")
                        return Event(**seen)
                previous = db.execute(
                    "SELECT action, reason, edited_query FROM current "
                    "WHERE run_id = ? AND pair_id = ? AND annotator = ?",
                    (run_id, decision.pair_id, annotator)).fetchone()
                cursor = db.execute(
                    "INSERT INTO events (run_id, batch_id, pair_id, annotator, action, reason, edited_query,"
                    " new_leak_score, previous_action, previous_reason, previous_query, at, source, request_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, decision.batch_id, decision.pair_id, annotator, decision.action, decision.reason,
                     decision.edited_query, new_leak_score,
                     previous["action"] if previous else None, previous["reason"] if previous else None,
                     previous["edited_query"] if previous else None, now(), source, decision.request_id))
                event = db.execute("SELECT * FROM events WHERE id = ?", (cursor.lastrowid,)).fetchone()
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return Event(**event)

    def current(self, *, run_id: str | None = None, batch_id: str | None = None,
                annotator: str | None = None) -> list[Event]:
        """The latest decision per (run, pair, annotator), filtered by whichever keys are given."""
        filters = {"run_id": run_id, "batch_id": batch_id, "annotator": annotator}
        given = {key: value for key, value in filters.items() if value is not None}
        where = " AND ".join(f"{key} = ?" for key in given) or "1"
        with self.connect() as db:
            rows = db.execute(f"SELECT * FROM current WHERE {where} ORDER BY id", tuple(given.values())).fetchall()
        return [Event(**row) for row in rows]

    def event_count(self, run_id: str) -> int:
        with self.connect() as db:
            return db.execute("SELECT COUNT(*) FROM events WHERE run_id = ?", (run_id,)).fetchone()[0]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
