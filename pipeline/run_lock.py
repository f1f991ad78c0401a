"""One process at a time builds a run: an exclusive lock on `<run>/.lock`, held from before the flow
starts until the command ends.

Two builds of one run id would check the run before either wrote its config.json, then both claim it:
the same config wrote the same files twice, another one stopped the second build mid-flow. The kernel
drops the lock when the process ends, kill -9 included, so a killed build never blocks its rerun
(`storage.exclusive_lock`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.config import ConfigError
from pipeline.rundir import RunDir
from pipeline.storage import NotWritable, exclusive_lock


class RunBusy(ConfigError):
    """Another process holds the run's lock."""


@contextmanager
def held(run: RunDir) -> Iterator[None]:
    """Hold `run`'s lock, or refuse at once (`RunBusy`) naming the process that holds it."""
    def busy(holder: str) -> RunBusy:
        return RunBusy(f"run {run.run_id} is being built by another process"
                       f"{f' (pid {holder})' if holder else ''}: wait for it to end")

    refuse_unwritable(run)
    with exclusive_lock(run.path / ".lock", busy):
        yield


def refuse_unwritable(run: RunDir) -> None:
    """Another member's run made under umask 022 is theirs alone to write: its lock file would still
    lock (`storage.exclusive_lock`), and the build load its models and fail on its first checkpoint."""
    if run.path.is_dir() and not os.access(run.path, os.W_OK | os.X_OK):
        raise NotWritable(f"cannot resume run {run.run_id} in {run.path}", run.path, change="-R g+w")
