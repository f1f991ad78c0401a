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
import sqlite3
import threading
from pathlib import Path

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
    """One connection guarded by a lock: safe to use from several threads.

    Each answer is committed as it arrives (`flush_every` = 1), so a build killed with
    SIGKILL re-asks only the requests that were in flight (benchmarks/build_llm.py
    checks this). In WAL mode with synchronous=NORMAL a commit costs about 0.2 ms of the
    event loop's time; committing on a writer thread instead made `leakless evaluate`
    5% faster but left a few dozen answers uncommitted at a kill, which were asked again.
    A larger `flush_every` buffers answers and loses up to that many on a kill.
    """

    def __init__(self, path: str | Path, flush_every: int = 1):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._pending: dict[str, tuple] = {}
        self.flush_every = flush_every
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps this crash-safe
        self._db.execute("PRAGMA busy_timeout=10000")  # other processes may write too
        self._db.execute(SCHEMA)

    def get(self, key: str) -> tuple[str, str] | None:
        """The answer JSON and the model the server said produced it."""
        with self._lock:
            if key in self._pending:
                return self._pending[key][4], self._pending[key][5]
            row = self._db.execute("SELECT answer, served_model FROM answers WHERE key = ?",
                                   (key,)).fetchone()
        return (row[0], row[1]) if row else None

    def put(self, key: str, role: str, model: str, prompt_hash: str, answer: str,
            served_model: str) -> None:
        with self._lock:
            self._pending[key] = (key, role, model, prompt_hash, answer, served_model)
            if len(self._pending) >= self.flush_every:
                self._write_pending()

    def flush(self) -> None:
        with self._lock:
            self._write_pending()

    def _write_pending(self) -> None:
        if self._pending:
            with self._db:  # one transaction
                self._db.executemany(
                    "INSERT OR REPLACE INTO answers (key, role, model, prompt_hash, answer, "
                    "served_model) VALUES (?, ?, ?, ?, ?, ?)", list(self._pending.values()))
            self._pending.clear()

    def stats(self) -> list[dict]:
        """Answers per role, model and prompt hash."""
        with self._lock:
            self._write_pending()
            rows = self._db.execute(
                "SELECT role, model, prompt_hash, COUNT(*) FROM answers "
                "GROUP BY role, model, prompt_hash ORDER BY role, model, prompt_hash").fetchall()
        return [dict(zip(("role", "model", "prompt_hash", "answers"), row)) for row in rows]

    def clear(self, role: str | None = None) -> int:
        """Delete every answer (or one role's); return how many were deleted."""
        with self._lock:
            self._write_pending()
            with self._db:
                if role is None:
                    deleted = self._db.execute("DELETE FROM answers").rowcount
                else:
                    deleted = self._db.execute("DELETE FROM answers WHERE role = ?", (role,)).rowcount
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted

    def close(self) -> None:
        with self._lock:
            self._write_pending()
            self._db.close()

    def __enter__(self) -> AnswerCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
