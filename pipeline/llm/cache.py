"""A content-addressed answer cache on disk (SQLite, WAL), shared across runs.

The key is the sha256 of the canonical request: server URL, model, prompt hash,
parameters, rendered messages and schema. Anything that could change the answer
changes the key, so an edited prompt or another model simply misses. Validated
answers are stored; so are the model's own bad answers when the settings ask for it
(`cache_failures`), as `FAILURE_PREFIX` + JSON. Other failures are retried on the next run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("pipeline.llm")
FAILURE_PREFIX = "failure:"  # an answer is a JSON object, so it never starts with this

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


def request_key(base_url: str, prompt_hash: str, request: dict) -> str:
    payload = json.dumps({"base_url": base_url.rstrip("/"), "prompt_hash": prompt_hash,
                          "request": request}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class AnswerCache:
    """Safe to use from several threads; answers are written by one writer thread.

    `put` hands the answer to the writer and returns at once; the writer commits
    whatever has arrived in one transaction, then waits for more. An answer is
    readable (`get`) from the moment it is put. Committing on the caller's thread cost
    about 0.3 ms of the event loop's time an answer (a fifth of what the HTTP request
    costs the client); on the writer it overlaps with the requests, as SQLite lets go
    of the GIL while it writes. A build killed with SIGKILL loses only the answers
    still queued, a few at most, and re-asks them with the requests that were in
    flight (benchmarks/build_llm.py checks this).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # guards _pending, _writing and the reading connection
        self._arrived = threading.Condition(self._lock)
        self._pending: dict[str, tuple] = {}
        self._writing: dict[str, tuple] = {}  # taken by the writer, not yet committed
        self._closing = False
        self._failure: BaseException | None = None  # why the writer stopped, if it failed
        self._db = self._connect()
        self._db.execute(SCHEMA)
        self._writer = threading.Thread(target=self._write_forever, name=f"answer-cache:{self.path.name}",
                                        daemon=True)
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps this crash-safe
        db.execute("PRAGMA busy_timeout=10000")  # other processes may write too
        return db

    def get(self, key: str) -> tuple[str, str] | None:
        """The answer JSON and the model the server said produced it."""
        with self._lock:
            row = self._pending.get(key) or self._writing.get(key)
            if row is not None:
                return row[4], row[5]
            row = self._db.execute("SELECT answer, served_model FROM answers WHERE key = ?",
                                   (key,)).fetchone()
        return (row[0], row[1]) if row else None

    def put(self, key: str, role: str, model: str, prompt_hash: str, answer: str,
            served_model: str) -> None:
        with self._lock:
            self._raise_if_stopped()
            self._pending[key] = (key, role, model, prompt_hash, answer, served_model)
            self._arrived.notify_all()

    def flush(self) -> None:
        """Return once every answer put so far is committed."""
        with self._lock:
            while self._pending or self._writing:
                self._raise_if_stopped()
                self._arrived.notify_all()
                self._arrived.wait()

    def _raise_if_stopped(self) -> None:
        if self._failure is not None:
            raise RuntimeError(f"the answer cache {self.path} could not write: {self._failure}") from self._failure
        if self._closing:
            raise RuntimeError(f"the answer cache {self.path} is closed")

    def _write_forever(self) -> None:
        db = self._connect()
        try:
            while True:
                with self._lock:
                    while not self._pending and not self._closing:
                        self._arrived.wait()
                    if not self._pending:
                        return  # closing, and nothing left to write
                    self._writing, self._pending = self._pending, {}
                    rows = list(self._writing.values())
                with db:  # one transaction, outside the lock: readers go on meanwhile
                    db.executemany("INSERT OR REPLACE INTO answers (key, role, model, prompt_hash, answer, "
                                   "served_model) VALUES (?, ?, ?, ?, ?, ?)", rows)
                with self._lock:
                    self._writing = {}
                    self._arrived.notify_all()  # wakes flush()
        except BaseException as error:  # disk full, a locked file: flush() and put() say so
            self._failure = error
            log.error("the answer cache %s stopped writing: %s", self.path, error)
        finally:
            db.close()
            with self._lock:
                self._closing = True
                self._arrived.notify_all()

    def stats(self) -> list[dict]:
        """Answers per role, model and prompt hash."""
        self.flush()
        with self._lock:
            rows = self._db.execute(
                "SELECT role, model, prompt_hash, COUNT(*) FROM answers "
                "GROUP BY role, model, prompt_hash ORDER BY role, model, prompt_hash").fetchall()
        return [dict(zip(("role", "model", "prompt_hash", "answers"), row)) for row in rows]

    def clear(self, role: str | None = None) -> int:
        """Delete every answer (or one role's); return how many were deleted."""
        self.flush()
        with self._lock:
            with self._db:
                if role is None:
                    deleted = self._db.execute("DELETE FROM answers").rowcount
                else:
                    deleted = self._db.execute("DELETE FROM answers WHERE role = ?", (role,)).rowcount
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted

    def close(self) -> None:
        """Commit what is queued, stop the writer, close. Closing twice is harmless."""
        with self._lock:
            self._closing = True
            self._arrived.notify_all()
        self._writer.join()
        with self._lock:
            self._db.close()

    def __enter__(self) -> AnswerCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
