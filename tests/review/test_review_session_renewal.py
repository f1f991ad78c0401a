"""A browser session ends after SESSION_LIFETIME unused, counted from its last use, not from sign-in
(mutation round 3): an annotator who keeps working is not signed out mid-batch."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from pipeline.review.store import SESSION_LIFETIME, ReviewStore


def age_sessions(store_path, by: timedelta) -> None:
    """Move every session's last use `by` into the past, as if that much time went by."""
    with sqlite3.connect(store_path) as db:
        for session_hash, created in db.execute("SELECT session_hash, created FROM sessions").fetchall():
            earlier = (datetime.fromisoformat(created) - by).isoformat(timespec="milliseconds")
            db.execute("UPDATE sessions SET created = ? WHERE session_hash = ?", (earlier, session_hash))


def test_each_use_of_a_session_starts_its_lifetime_again(tmp_path):
    store = ReviewStore.for_runs(tmp_path)
    token = store.token(store.add_token("ann", ["fake-b000"]))
    session = store.open_session(token)
    age_sessions(tmp_path / "review.sqlite", SESSION_LIFETIME - timedelta(minutes=1))
    assert store.session(session).annotator == "ann"  # used just before it would end

    age_sessions(tmp_path / "review.sqlite", timedelta(minutes=2))  # two minutes later: a lifetime since sign-in

    assert store.session(session).annotator == "ann"


def test_a_session_unused_for_its_lifetime_ends(tmp_path):
    store = ReviewStore.for_runs(tmp_path)
    session = store.open_session(store.token(store.add_token("ann", ["fake-b000"])))

    age_sessions(tmp_path / "review.sqlite", SESSION_LIFETIME + timedelta(minutes=1))

    assert store.session(session) is None
