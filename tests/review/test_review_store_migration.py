"""A review store written before schema version 2 (request ids unique across annotators, no edit
checks, no revocation) opens as version 2 with every event and token kept."""

from __future__ import annotations

import sqlite3

from pipeline.review.decisions import DecisionIn
from pipeline.review.store import ReviewStore, hash_token

VERSION_1 = """
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY, annotator TEXT NOT NULL, batches TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, batch_id TEXT NOT NULL,
    pair_id TEXT NOT NULL, annotator TEXT NOT NULL, action TEXT NOT NULL, reason TEXT,
    edited_query TEXT, new_leak_score REAL, previous_action TEXT, previous_reason TEXT,
    previous_query TEXT, at TEXT NOT NULL, source TEXT NOT NULL, request_id TEXT UNIQUE);
CREATE VIEW current AS
    SELECT events.*, latest.history FROM events JOIN (
        SELECT MAX(id) AS last_id, COUNT(*) AS history FROM events GROUP BY run_id, pair_id, annotator
    ) AS latest ON events.id = latest.last_id;
INSERT INTO tokens VALUES ('{token}', 'ann', '["r-b000"]', '2026-01-01');
INSERT INTO events (run_id, batch_id, pair_id, annotator, action, edited_query, new_leak_score, at, source,
                    request_id)
    VALUES ('r', 'r-b000', 'p1', 'ann', 'edit', 'a new query', 0.25, '2026-01-01', 'web', 'req-1');
"""


def test_a_version_1_store_is_migrated_in_place(tmp_path):
    path = tmp_path / "review.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(VERSION_1.format(token=hash_token("raw-token")))
    store = ReviewStore(path)
    (event,) = store.current(run_id="r")
    assert (event.edited_query, event.new_leak_score, event.request_id) == ("a new query", 0.25, "req-1")
    assert event.leak_spans == [] and event.override_reason is None
    assert store.token("raw-token").annotator == "ann"
    # request ids are now per annotator: bob's "req-1" is a new event, ann's is the old one
    decision = DecisionIn(batch_id="r-b000", pair_id="p1", action="edit", edited_query="a new query",
                          request_id="req-1")
    assert store.record(decision, annotator="bob", run_id="r").id != event.id
    assert store.record(decision, annotator="ann", run_id="r").id == event.id
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'events_v1'").fetchone()[0] == 0
    assert ReviewStore(path).current(run_id="r", annotator="ann")[0].id == event.id  # reopening is a no-op
