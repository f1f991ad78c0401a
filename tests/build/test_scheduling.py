"""The build walks each batch through all its stages, a few batches at a time (real Prefect tasks
on the thread runner): a batch finishes before a later one starts, never more in flight than
asked, the last stage's batches come back in order, and a failed stage stops new work."""

from __future__ import annotations

import threading
import time

import pytest
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline.scheduling import run_depth_first

STAGES = 3
log: list[tuple[str, int, int, float]] = []
lock = threading.Lock()


@task(cache_policy=NO_CACHE)
def stage(index: int, position: int, value: list[int], fail_at: tuple[int, int] | None) -> list[int]:
    with lock:
        log.append(("start", index, position, time.perf_counter()))
    time.sleep(0.05)
    if (index, position) == fail_at:
        raise RuntimeError(f"stage {position} of batch {index} broke")
    with lock:
        log.append(("end", index, position, time.perf_counter()))
    return value + [position]


@flow(task_runner=ThreadPoolTaskRunner(max_workers=8))
def walk(batches: int, in_flight: int, fail_at: tuple[int, int] | None = None) -> list[list[int]]:
    advanced = []

    def submit(index, position, upstream):
        return stage.submit(index, position, upstream, fail_at)

    done = run_depth_first([[index] for index in range(batches)], STAGES, in_flight, submit,
                           lambda index, position: advanced.append((index, position)))
    assert sorted(advanced) == [(i, p) for i in range(batches) for p in range(STAGES)]
    return done


def batches_in_flight_at_most() -> int:
    """The most batches between their first stage's start and their last stage's end at once."""
    spans = [(min(t for k, i, _, t in log if i == index and k == "start"),
              max(t for k, i, _, t in log if i == index and k == "end"))
             for index in {i for _, i, _, _ in log}]
    return max(sum(begin <= moment < end for begin, end in spans) for moment, _ in spans)


def test_each_batch_goes_through_all_its_stages_a_few_at_a_time(prefect_harness):
    log.clear()
    done = walk(6, 2)
    assert done == [[index, *range(STAGES)] for index in range(6)]
    assert batches_in_flight_at_most() == 2
    first_of = {index: min(t for k, i, _, t in log if i == index and k == "start") for index in range(6)}
    last_of = {index: max(t for k, i, _, t in log if i == index and k == "end") for index in range(6)}
    assert last_of[0] <= first_of[2] and last_of[1] <= first_of[3]  # depth first, not stage by stage


def test_a_failed_stage_stops_new_batches_and_raises_its_error(prefect_harness):
    log.clear()
    with pytest.raises(RuntimeError, match="stage 1 of batch 0 broke"):
        walk(6, 2, fail_at=(0, 1))
    started = {index for kind, index, _, _ in log if kind == "start"}
    assert started <= {0, 1, 2}  # at most one more batch began before the failure came in
    ended = [(i, p) for kind, i, p, _ in log if kind == "end"]
    assert (0, 1) not in ended and (0, 2) not in ended
