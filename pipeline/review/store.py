"""Review decisions and annotator tokens in SQLite.

Decisions are append-only events (each keeps the value it replaced); the
`current` view is the latest event per (run, pair, annotator). WAL mode and a
busy timeout let many annotators write at once; each call opens its own
connection, so the store is safe to share between request threads. The decisions
it refuses to record (a request id reused, a stale page, an older decision from
elsewhere) are `decision_conflicts.py`.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import BaseModel

from pipeline.hashing import sha256_text
from pipeline.review.decision_conflicts import DecisionChanged, LaterDecision, later_elsewhere, retried
from pipeline.review.decisions import DecisionIn, Event
from pipeline.review.store_connection import connection, create_with_umask

STORE_NAME = "review.sqlite"
# A browser session left unused for a working day ends; the annotator's link (the token) signs in
# again. A cookie copied off a machine stops working without anyone revoking the token, and an
# annotator at work is never signed out mid-item (each use starts the clock again).
SESSION_LIFETIME = timedelta(hours=12)

SCHEMA_VERSION = 2  # any change to SCHEMA bumps it: a store at this version is opened without running SCHEMA
SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY, annotator TEXT NOT NULL, batches TEXT NOT NULL, created TEXT NOT NULL,
    revoked TEXT);
CREATE TABLE IF NOT EXISTS sessions (
    session_hash TEXT PRIMARY KEY, token_hash TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, batch_id TEXT NOT NULL,
    pair_id TEXT NOT NULL, annotator TEXT NOT NULL, action TEXT NOT NULL, reason TEXT,
    edited_query TEXT, new_leak_score REAL, previous_action TEXT, previous_reason TEXT,
    previous_query TEXT, at TEXT NOT NULL, source TEXT NOT NULL, request_id TEXT,
    leak_threshold REAL, leak_spans TEXT, detector_version TEXT, harm_verdict TEXT, harm_reason TEXT,
    override_reason TEXT, UNIQUE (annotator, request_id));
CREATE INDEX IF NOT EXISTS events_key ON events (run_id, pair_id, annotator);
CREATE VIEW IF NOT EXISTS current AS
    SELECT events.*, latest.history FROM events JOIN (
        SELECT MAX(id) AS last_id, COUNT(*) AS history FROM events GROUP BY run_id, pair_id, annotator
    ) AS latest ON events.id = latest.last_id;
"""
# Version 1 (no user_version): request_id unique across annotators, no edit checks, no revocation.
MIGRATE_FROM_1 = """
DROP VIEW IF EXISTS current;
ALTER TABLE events RENAME TO events_v1;
ALTER TABLE tokens ADD COLUMN revoked TEXT;
"""
V1_EVENT_COLUMNS = ("id, run_id, batch_id, pair_id, annotator, action, reason, edited_query, new_leak_score,"
                    " previous_action, previous_reason, previous_query, at, source, request_id")
class Token(BaseModel):
    annotator: str
    batches: list[str]
    token_hash: str = ""
    created: str = ""

    def allows(self, batch_id: str) -> bool:
        return batch_id in self.batches


def hash_token(raw: str) -> str:
    return sha256_text(raw)


class ReviewStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        create_with_umask(self.path)
        with self.connect() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:  # a read-only command on a store it may not write still works
                return
            old = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone()
            steps = [SCHEMA]
            if old and version < SCHEMA_VERSION:
                steps = [MIGRATE_FROM_1, SCHEMA, f"INSERT INTO events ({V1_EVENT_COLUMNS}) "
                                                 f"SELECT {V1_EVENT_COLUMNS} FROM events_v1; DROP TABLE events_v1;"]
            # one transaction: a store is migrated completely or not at all
            db.executescript("BEGIN IMMEDIATE;" + "".join(steps) + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")

    @classmethod
    def for_runs(cls, runs_dir: Path) -> ReviewStore:
        """One store per runs folder: batch ids carry their run id, so they never collide."""
        return cls(Path(runs_dir) / STORE_NAME)

    @classmethod
    def events_in(cls, runs_dir: Path, run_id: str) -> int:
        """How many events the runs folder's store holds for the run; 0 where it has no store
        (none is created just to be asked)."""
        path = Path(runs_dir) / STORE_NAME
        return cls(path).event_count(run_id) if path.is_file() else 0

    @contextmanager
    def connect(self):
        with connection(self.path) as db:
            yield db

    def add_token(self, annotator: str, batches: list[str]) -> str:
        """A new token for the annotator, scoped to these batches; only its hash is stored.
        It replaces the annotator's earlier tokens (they stop working, their sessions too)."""
        if not annotator.strip() or not batches:
            raise ValueError("a token needs an annotator name and at least one batch")
        raw = secrets.token_urlsafe(24)
        self.revoke(annotator)
        with self.connect() as db:
            db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, NULL)",
                       (hash_token(raw), annotator, json.dumps(sorted(set(batches))), now()))
        return raw

    def revoke(self, annotator: str) -> int:
        """Revoke every live token of the annotator and end their sessions; returns how many."""
        with self.connect() as db:
            hashes = [row[0] for row in db.execute(
                "SELECT token_hash FROM tokens WHERE annotator = ? AND revoked IS NULL", (annotator,))]
            db.executemany("UPDATE tokens SET revoked = ? WHERE token_hash = ?", [(now(), h) for h in hashes])
            db.executemany("DELETE FROM sessions WHERE token_hash = ?", [(h,) for h in hashes])
        return len(hashes)

    def token(self, raw: str | None) -> Token | None:
        return self._token("token_hash = ?", hash_token(raw)) if raw else None

    def _token(self, where: str, *keys: str) -> Token | None:
        with self.connect() as db:
            row = db.execute(f"SELECT * FROM tokens WHERE revoked IS NULL AND {where}", keys).fetchone()
        return token_of(row) if row else None

    def tokens(self) -> list[Token]:
        """Live tokens, oldest first."""
        with self.connect() as db:
            rows = db.execute("SELECT * FROM tokens WHERE revoked IS NULL ORDER BY created").fetchall()
        return [token_of(row) for row in rows]

    def open_session(self, token: Token) -> str:
        """A new browser session for a live token; the raw session id goes in the cookie, its hash here.
        Expired sessions are dropped on the way."""
        raw = secrets.token_urlsafe(32)
        with self.connect() as db:
            db.execute("DELETE FROM sessions WHERE created <= ?", (session_cutoff(),))
            db.execute("INSERT INTO sessions VALUES (?, ?, ?)", (hash_token(raw), token.token_hash, now()))
        return raw

    def session(self, raw: str | None) -> Token | None:
        """The live token behind a session cookie used less than SESSION_LIFETIME ago; this use
        starts its clock again (the `created` column holds the last use)."""
        if not raw:
            return None
        token = self._token("token_hash = (SELECT token_hash FROM sessions WHERE session_hash = ? AND created > ?)",
                            hash_token(raw), session_cutoff())
        if token is not None:
            with self.connect() as db:
                db.execute("UPDATE sessions SET created = ? WHERE session_hash = ?", (now(), hash_token(raw)))
        return token

    def record(self, decision: DecisionIn, **options) -> Event:
        """Append one event (`append`'s options) and return it."""
        return self.append(decision, **options)[0]

    def append(self, decision: DecisionIn, *, annotator: str, run_id: str, source: str = "web",
               check=None, at: str | None = None, shown: int | None = None,
               keep_later: bool = False) -> tuple[Event, bool]:
        """Append one event; the previous current value rides along on it. Returns it, and whether
        this call recorded it (False: its request id had already). `check` is the
        EditCheck of an edited query (its score, spans and harm verdict are kept with it). `at` is
        when the decision was made where that was elsewhere (Label Studio); by default, now.
        `shown` is the id of the decision the annotator saw as current (0: none yet); where the
        current one is another, DecisionChanged is raised and nothing is recorded. With
        `keep_later`, where the current one came from another source and is later than `at`,
        LaterDecision is raised and nothing is recorded."""
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")  # take the write lock before reading the previous value
            try:
                seen = db.execute(
                    "SELECT events.*, (SELECT COUNT(*) FROM events AS e WHERE e.run_id = events.run_id"
                    " AND e.pair_id = events.pair_id AND e.annotator = events.annotator) AS history"
                    " FROM events WHERE request_id = ? AND annotator = ?",
                    (decision.request_id, annotator)).fetchone() if decision.request_id else None
                event = None if seen else self._insert(db, decision, annotator, run_id, source, check,
                                                       at or now(), shown, keep_later)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return (retried(seen, decision, annotator), False) if seen else (Event(**event), True)

    @staticmethod
    def _insert(db, decision: DecisionIn, annotator: str, run_id: str, source: str, check, at: str,
                shown: int | None, keep_later: bool):
        previous = db.execute("SELECT * FROM current WHERE run_id = ? AND pair_id = ? AND annotator = ?",
                              (run_id, decision.pair_id, annotator)).fetchone()
        # read under the write lock: two tabs cannot both pass this check for one current decision
        if shown is not None and (previous["id"] if previous else 0) != shown:
            raise DecisionChanged(decision.pair_id, Event(**previous) if previous else None)
        if keep_later and previous and later_elsewhere(Event(**previous), source, at):
            raise LaterDecision(Event(**previous))
        cursor = db.execute(
            "INSERT INTO events (run_id, batch_id, pair_id, annotator, action, reason, edited_query,"
            " new_leak_score, previous_action, previous_reason, previous_query, at, source, request_id,"
            " leak_threshold, leak_spans, detector_version, harm_verdict, harm_reason, override_reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, decision.batch_id, decision.pair_id, annotator, decision.action, decision.reason,
             decision.edited_query, check.score if check else None,
             previous["action"] if previous else None, previous["reason"] if previous else None,
             previous["edited_query"] if previous else None, at, source, decision.request_id,
             *(edit_columns(check) if check else (None,) * 5), decision.override_reason))
        return db.execute("SELECT * FROM current WHERE id = ?", (cursor.lastrowid,)).fetchone()

    def recorded_request(self, annotator: str, request_id: str | None) -> bool:
        """Whether the annotator's request id has recorded an event (a request sent again after its answer
        was lost is then answered with that event, or refused as another decision, by `append`)."""
        if not request_id:
            return False
        with self.connect() as db:
            return db.execute("SELECT 1 FROM events WHERE annotator = ? AND request_id = ?",
                              (annotator, request_id)).fetchone() is not None

    def current(self, *, run_id: str | None = None, batch_id: str | None = None,
                annotator: str | None = None) -> list[Event]:
        """The latest decision per (run, pair, annotator), filtered by whichever keys are given."""
        filters = {"run_id": run_id, "batch_id": batch_id, "annotator": annotator}
        given = {key: value for key, value in filters.items() if value is not None}
        where = " AND ".join(f"{key} = ?" for key in given) or "1"
        with self.connect() as db:
            rows = db.execute(f"SELECT * FROM current WHERE {where} ORDER BY id", tuple(given.values())).fetchall()
        return [Event(**row) for row in rows]

    def latest_from(self, source: str, *, run_id: str) -> list[Event]:
        """The latest event per (pair, annotator) that came from `source` (say, Label Studio imports)."""
        with self.connect() as db:
            rows = db.execute("SELECT * FROM events WHERE id IN (SELECT MAX(id) FROM events WHERE run_id = ? "
                              "AND source = ? GROUP BY pair_id, annotator) ORDER BY id", (run_id, source)).fetchall()
        return [Event(**row) for row in rows]

    def event_count(self, run_id: str) -> int:
        with self.connect() as db:
            return db.execute("SELECT COUNT(*) FROM events WHERE run_id = ?", (run_id,)).fetchone()[0]


def edit_columns(check) -> tuple:
    return (check.threshold, json.dumps(list(check.spans)), check.detector_version, check.harm_verdict,
            check.harm_reason)


def token_of(row: sqlite3.Row) -> Token:
    return Token(annotator=row["annotator"], batches=json.loads(row["batches"]), token_hash=row["token_hash"],
                 created=row["created"])


def session_cutoff() -> str:
    """Sessions opened at or before this time have expired (times are ISO 8601 UTC, so they sort)."""
    return (datetime.now(timezone.utc) - SESSION_LIFETIME).isoformat(timespec="milliseconds")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
