"""One process at a time builds a run: an exclusive lock on `<run>/.lock`, held from before the flow
starts until the command ends.

Two builds of one run id would check the run before either wrote its config.json, then both claim it:
the same config wrote the same files twice, another one stopped the second build mid-flow. The lock
file stays: removing it would let a waiting process lock the removed file while a new one locks its
successor. The kernel drops the lock when the process ends, kill -9 included, so a killed build never
blocks its rerun.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.config import ConfigError
from pipeline.rundir import RunDir


class RunBusy(ConfigError):
    """Another process holds the run's lock."""


@contextmanager
def held(run: RunDir) -> Iterator[None]:
    """Hold `run`'s lock, or refuse at once (`RunBusy`) naming the process that holds it."""
    run.path.mkdir(parents=True, exist_ok=True)
    with open(run.path / ".lock", "a+", encoding="utf-8") as handle:  # "a+": made if missing, never emptied
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()  # empty while the holder has locked but not yet written
            raise RunBusy(f"run {run.run_id} is being built by another process"
                          f"{f' (pid {holder})' if holder else ''}: wait for it to end") from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        yield
