"""Rich progress bars for the long stages, one bar per stage, advanced as batches finish.

Tasks run in worker threads of the same process, so a module-level tracker is
enough; where no tracker is active (unit tests, remote workers) it does nothing.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

_active: dict = {}
_lock = threading.Lock()


@contextmanager
def stage_progress(stages: tuple[str, ...], total_seeds: int, enabled: bool = True):
    if not enabled:
        yield
        return
    progress = Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("seeds"), TimeElapsedColumn(), transient=False)
    with progress:
        with _lock:
            _active["progress"] = progress
            _active["tasks"] = {stage: progress.add_task(stage, total=total_seeds) for stage in stages}
        try:
            yield
        finally:
            with _lock:
                _active.clear()


def advance(stage: str, seeds: int) -> None:
    with _lock:
        if _active and stage in _active["tasks"]:
            _active["progress"].advance(_active["tasks"][stage], seeds)
