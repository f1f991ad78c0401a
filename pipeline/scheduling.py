"""Batches through the stages a few at a time, each batch through all its stages before the next starts.

Submitting stage by stage (every batch's first stage, then every batch's second...) keeps the
batches in step: all of them reach a CPU stage (the detector, images) at the same moment, and no
request is in flight meanwhile. Walking each batch through its stages, with a few batches in
flight, lets them fall out of step, so one batch's CPU work overlaps the others' requests
(`benchmarks/build_llm.py`). The LLM client's in-flight gate serves earlier batches first, which
keeps them apart.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from prefect.futures import as_completed

# (batch index, position of the stage, the batch as the previous stage left it) -> a Prefect future
Submit = Callable[[int, int, Any], Any]


def run_depth_first(batches: Sequence[Any], stages: int, in_flight: int, submit: Submit,
                    on_stage_done: Callable[[int, int], None] = lambda index, position: None) -> list[Any]:
    """Every batch through `stages` stages, at most `in_flight` batches at once; returns the batches
    as the last stage left them. A failed stage stops new submissions; the stages already running
    finish (their checkpoints are written) and the first failure is raised."""
    done = list(batches)
    running: dict[Any, tuple[int, int]] = {}
    waiting = iter(range(len(batches)))
    for index in itertools.islice(waiting, max(1, in_flight)):
        running[submit(index, 0, done[index])] = (index, 0)
    failed: BaseException | None = None
    while running:
        future = next(as_completed(list(running)))
        index, position = running.pop(future)
        try:
            done[index] = future.result()
        except BaseException as error:
            failed = failed or error
            continue
        on_stage_done(index, position)
        if failed is not None:
            continue
        if position + 1 < stages:
            running[submit(index, position + 1, done[index])] = (index, position + 1)
        elif (following := next(waiting, None)) is not None:
            running[submit(following, 0, done[following])] = (following, 0)
    if failed is not None:
        raise failed
    return done
