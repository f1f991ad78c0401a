"""A content-addressed answer cache on disk (SQLite, WAL), shared across runs.

The key is the sha256 of the canonical request: server URL, model, prompt hash,
parameters, rendered messages and schema. Anything that could change the answer
changes the key, so an edited prompt or another model simply misses. Validated
answers are stored; so are the model's own bad answers when the settings ask for it
(`cache_failures`), as `FAILURE_PREFIX` + JSON. Other failures are retried on the next run.

An answer the scripted server made (`leakless fake-llm`, whose replies name the model
`SCRIPTED_MODEL_PREFIX` + the model asked for) is served only while the endpoint's server says it
is that server (`SCRIPTED_SERVER_HEADER` on its GET /models reply): a real model started later at
the same URL under the same name is asked instead (`pipeline.llm.session`). Keys stay as they are.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from pipeline.hashing import sha256_text

FAILURE_PREFIX = "failure:"  # an answer is a JSON object, so it never starts with this
SCRIPTED_MODEL_PREFIX = "scripted-fake:"
SCRIPTED_SERVER_HEADER = "x-leakless-scripted-server"
CHECKPOINT_EVERY_S = 0.5

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    answer TEXT NOT NULL,
    served_model TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)
"""
INSERT = ("INSERT OR REPLACE INTO answers (key, role, model, prompt_hash, answer, served_model) "
          "VALUES (?, ?, ?, ?, ?, ?)")


def request_key(base_url: str, prompt_hash: str, request: dict) -> str:
    payload = json.dumps({"base_url": base_url.rstrip("/"), "prompt_hash": prompt_hash,
                          "request": request}, sort_keys=True, ensure_ascii=False)
    return sha256_text(payload)


def _checkpoint_until(path: Path, stop: threading.Event) -> None:
    """Copy committed pages from the WAL into the database, never blocking readers or the writer."""
    db = _connect(path)
    while not stop.wait(CHECKPOINT_EVERY_S):
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:  # busy or locked: the next round copies what this one could not
            continue
    db.close()


def _key_hashes(db: sqlite3.Connection) -> set[int]:
    return {hash(key) for (key,) in db.execute("SELECT key FROM answers")}


def _connect(path: Path, **pragmas: int | str) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False)
    db.execute("PRAGMA busy_timeout=10000")  # other processes, and this one's other connections
    for name, value in pragmas.items():
        db.execute(f"PRAGMA {name}={value}")
    return db


class AnswerCache:
    """Safe to use from several threads and event loops.

    Writes go through one writer thread that commits whatever arrived while its last
    transaction ran. An event loop that called SQLite itself stalled every request it had
    out: at 20,000 seeds the build's loops spent 96 s of 537 s inside the cache, 44 s of it
    in calls over 5 ms (waiting for the GIL back after SQLite released it, page reads,
    WAL checkpoints). `put_later` returns at once and calls `when_kept` once the answer is
    committed; the client holds the request's in-flight slot until then, so a build killed
    with SIGKILL re-asks no more than were in flight (benchmarks/build_llm.py checks this).
    `put` is the same, waiting for the commit. Reads use one connection per thread, and
    checkpoints run on their own thread, so neither waits for the writer.

    A key this cache has never seen is answered from memory, without SQLite: it keeps the
    hashes of the keys the file held when it was opened and of those it committed since.
    In a fresh build nearly every lookup misses, and each SQLite call on an event loop gave
    up the GIL and waited to get it back (18% of the client loop's busy time at 2,014
    seeds). An answer another process commits after this one opened the file is therefore
    not seen: that request is sent again, never answered wrongly.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = _connect(self.path)
        db.execute("PRAGMA journal_mode=WAL")  # set once, kept in the file
        db.execute(SCHEMA)
        self._known = _key_hashes(db)
        db.close()
        self._changed = threading.Condition()
        self._queued: dict[str, tuple] = {}  # readable at once, committed soon
        self._when_kept: list[Callable[[], None]] = []
        self._error: Exception | None = None
        self._closed = False
        self._writer_pid: int | None = None
        self._writer: threading.Thread | None = None
        self._readers = threading.local()
        self._admin = _connect(self.path)  # stats and clear: rare, under the condition's lock

    # -- reads -------------------------------------------------------------------------------

    def get(self, key: str) -> tuple[str, str] | None:
        """The answer JSON and the model the server said produced it."""
        with self._changed:
            row = self._queued.get(key)
            known = hash(key) in self._known
        if row is not None:
            return row[4], row[5]
        if not known:
            return None
        rows = self._reader().execute("SELECT answer, served_model FROM answers WHERE key = ?",
                                      (key,)).fetchall()  # fetchall ends the read transaction
        return (rows[0][0], rows[0][1]) if rows else None

    def _reader(self) -> sqlite3.Connection:
        pid, db = getattr(self._readers, "connection", (None, None))
        if pid != os.getpid():  # a forked child must not use its parent's connection
            db = _connect(self.path, mmap_size=1 << 28)
            self._readers.connection = (os.getpid(), db)
        return db

    # -- writes ------------------------------------------------------------------------------

    def put_later(self, key: str, role: str, model: str, prompt_hash: str, answer: str,
                  served_model: str, when_kept: Callable[[], None] | None = None) -> None:
        """Queue an answer; `when_kept` runs on the writer thread once it is committed (or the
        commit failed: the next call then raises the error)."""
        with self._changed:
            if self._closed:
                raise sqlite3.ProgrammingError("Cannot operate on a closed answer cache.")
            self._raise_error()
            self._start_writer()
            self._queued[key] = (key, role, model, prompt_hash, answer, served_model)
            if when_kept is not None:
                self._when_kept.append(when_kept)
            self._changed.notify_all()

    def put(self, key: str, role: str, model: str, prompt_hash: str, answer: str,
            served_model: str) -> None:
        kept = threading.Event()
        self.put_later(key, role, model, prompt_hash, answer, served_model, kept.set)
        kept.wait()
        with self._changed:
            self._raise_error()

    def flush(self) -> None:
        """Wait until every queued answer is committed."""
        with self._changed:
            self._changed.wait_for(lambda: not self._queued)  # a row leaves once committed
            self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _start_writer(self) -> None:
        if self._writer_pid != os.getpid():
            self._writer_pid = os.getpid()
            self._writer = threading.Thread(target=self._write_forever, name="answer-cache-writer", daemon=True)
            self._writer.start()

    def _write_forever(self) -> None:
        # WAL keeps NORMAL crash-safe; a checkpoint in this thread would hold up every answer queued
        db = _connect(self.path, synchronous="NORMAL", wal_autocheckpoint=0)
        stop_checkpoints = threading.Event()
        checkpoints = threading.Thread(target=_checkpoint_until, args=(self.path, stop_checkpoints),
                                       name="answer-cache-checkpoints", daemon=True)
        checkpoints.start()
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._queued or self._closed)
                if not self._queued:
                    break
                rows, callbacks = list(self._queued.values()), self._when_kept
                self._when_kept = []
            committed = False
            try:
                with db:  # one transaction
                    db.executemany(INSERT, rows)
                committed = True
            except Exception as error:  # raised to the next caller; the writer keeps going
                with self._changed:
                    self._error = error
            with self._changed:
                if committed:  # known before it leaves the queue, so `get` always finds it
                    self._known.update(hash(row[0]) for row in rows)
                for row in rows:
                    if self._queued.get(row[0]) is row:  # not replaced meanwhile
                        del self._queued[row[0]]
                self._changed.notify_all()
            for kept in callbacks:
                kept()
        db.close()
        stop_checkpoints.set()
        checkpoints.join()

    # -- maintenance -------------------------------------------------------------------------

    def stats(self) -> list[dict]:
        """Answers per role, model and prompt hash."""
        self.flush()
        with self._changed:
            rows = self._admin.execute(
                "SELECT role, model, prompt_hash, COUNT(*) FROM answers "
                "GROUP BY role, model, prompt_hash ORDER BY role, model, prompt_hash").fetchall()
        return [dict(zip(("role", "model", "prompt_hash", "answers"), row)) for row in rows]

    def clear(self, role: str | None = None) -> int:
        """Delete every answer (or one role's); return how many were deleted."""
        self.flush()
        with self._changed:
            with self._admin:
                if role is None:
                    deleted = self._admin.execute("DELETE FROM answers").rowcount
                else:
                    deleted = self._admin.execute("DELETE FROM answers WHERE role = ?", (role,)).rowcount
            self._admin.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._known = _key_hashes(self._admin)
        return deleted

    def close(self) -> None:
        if self._closed:
            return
        self.flush()
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._writer is not None and self._writer_pid == os.getpid():
            self._writer.join()  # its connections closed: once close returns, the files stop changing
        with self._changed:
            # into the database file itself: a copy of llm.sqlite alone (without its -wal) then
            # holds every answer
            self._admin.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self._admin.close()

    def __enter__(self) -> AnswerCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
