"""One process's record of what its LLM client spent on a run, kept on disk while it works.

The file used to be written only as a stage ended, so a build stopped mid-stage (SIGKILL, or a
stop whose stage never reached its end) left none, and a resumed run's summary undercounted what
was spent. Now it is rewritten, atomically, about every second while a stage uses the client and
once more as each stage ends, stopped or not: a killed process loses at most its last second's
counts and the requests it had out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.llm.accounting import Accounting, added_up
from pipeline.storage import atomic_write_json

WRITE_EVERY_S = 1.0


class SpendingRecord:
    """What `accounting` counted since this record began, in `path` (nothing while it counted none):
    a client lives on across runs, so a run's file keeps only what was sent for that run."""

    def __init__(self, path: Path, accounting: Accounting):
        self.path = path
        self.accounting = accounting
        self.before = accounting.summary()
        self._lock = threading.Lock()
        self._written: dict[str, dict] = {}
        self._users = 0  # stages using the client now (several batches run at once)
        self._stop: threading.Event | None = None

    def write(self) -> None:
        with self._lock:
            spent = added_up([self.accounting.summary()], minus=self.before)
            if spent and spent != self._written:
                atomic_write_json(self.path, spent)
                self._written = spent

    @contextmanager
    def kept_during(self) -> Iterator[None]:
        """Around a stage: the file is rewritten while any stage of the run works, and as each ends."""
        with self._lock:
            self._users += 1
            if self._stop is None:
                self._stop = threading.Event()
                threading.Thread(target=self._rewrite_until, args=(self._stop,), name="leakless-llm-calls",
                                 daemon=True).start()
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if not self._users and self._stop is not None:
                    self._stop.set()
                    self._stop = None
            self.write()

    def _rewrite_until(self, stop: threading.Event) -> None:
        while not stop.wait(WRITE_EVERY_S):
            self.write()
