"""A scheduled firing carries on the latest run of its config that a stopped `leakless serve` or a
killed process left unfinished, or that finished with seeds lost to transient errors; otherwise, or
when that run was made with another config, it starts a new run."""

from __future__ import annotations

import os

import pandas as pd
import pytest

import flows.scheduled
from pipeline import run_lock
from pipeline.config import load_config
from pipeline.rundir import RunDir
from pipeline.scheduled_runs import scheduled_run_id

OVERRIDES = ["run.size=1", "run.categories=['Privacy']"]


@pytest.fixture()
def config(tmp_path):
    return load_config(None, [*OVERRIDES, f"run.runs_dir='{tmp_path}'"])


def made(config, run_id: str, at: float) -> RunDir:
    """A run claimed at time `at` and killed before any stage finished."""
    run = RunDir(config.run.runs_dir, run_id)
    run.claim(config)
    os.utime(run.config_record, (at, at))
    return run


def finish(run: RunDir, transient_failure: bool = False) -> None:
    """The files a finished build leaves that say how its seeds ended."""
    state = "failed" if transient_failure else "accepted"
    pd.DataFrame([{"seed_id": "s1", "state": state}]).to_parquet(run.path / "ledger.parquet")
    pd.DataFrame([{"seed_id": "s1", "transient": True}] if transient_failure else [],
                 columns=["seed_id", "transient"]).to_parquet(run.path / "failures.parquet")
    run.manifest.write_text("{}")


def test_the_latest_unfinished_run_of_the_config_is_carried_on(config):
    made(config, "older", at=1_000)
    made(config, "killed", at=2_000)
    assert scheduled_run_id(config) == "killed"


def test_a_finished_run_with_seeds_lost_to_transient_errors_is_tried_again(config):
    finish(made(config, "server-was-down", at=1_000), transient_failure=True)
    assert scheduled_run_id(config) == "server-was-down"


def test_a_seed_that_fails_every_night_keeps_no_firing_on_its_run_for_ever(config):
    """Tried again by three firings at most; then a new run starts."""
    finish(made(config, "times-out-nightly", at=1_000), transient_failure=True)
    assert [scheduled_run_id(config) for _ in range(3)] == ["times-out-nightly"] * 3
    assert scheduled_run_id(config) != "times-out-nightly"


def test_a_finished_run_exported_for_review_is_not_rebuilt(config):
    run = made(config, "in-review", at=1_000)
    finish(run, transient_failure=True)
    (run.path / "review" / "batches").mkdir(parents=True)
    assert scheduled_run_id(config) != "in-review"


def test_after_a_clean_finished_run_a_new_run_starts(config):
    made(config, "killed-long-ago", at=1_000)
    finish(made(config, "done", at=2_000))
    assert scheduled_run_id(config) not in {"done", "killed-long-ago"}


def test_a_run_made_with_another_config_is_left_alone(config, tmp_path):
    other = load_config(None, ["run.size=2", "run.categories=['Privacy']", f"run.runs_dir='{tmp_path}'"])
    made(other, "bigger", at=1_000)
    assert scheduled_run_id(config) != "bigger"


def test_a_firing_while_a_build_of_that_run_is_going_fails_in_one_line(config, tmp_path):
    run = made(config, "being-built", at=1_000)
    with run_lock.held(run):  # a `leakless build --run-id being-built` still running
        state = flows.scheduled.scheduled_build.fn(None, [*OVERRIDES, f"run.runs_dir='{tmp_path}'"])
    assert state.is_failed() and state.message.startswith("run being-built is being built by another process")
    assert not run.manifest.exists()


@pytest.mark.slow
def test_a_scheduled_build_resumes_the_run_a_stopped_serve_left(prefect_harness, config, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    made(config, "stopped-mid-run", at=1_000)
    result = flows.scheduled.scheduled_build(None, [*OVERRIDES, f"run.runs_dir='{tmp_path}'"])
    assert result["run_id"] == "stopped-mid-run"
    assert RunDir(tmp_path, "stopped-mid-run").manifest.exists() and len(list(tmp_path.iterdir())) == 1

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["stopped-mid-run"])))
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["stopped-mid-run"])))
    names = {run.name for run in runs}
    assert "build-stopped-mid-run" in names
    assert any(name.startswith("scheduled-build-") for name in names)  # no random name
    assert all("leakless" in run.tags for run in runs)
    assert "finalize-stopped-mid-run" in {task.name for task in tasks}
    assert all({"leakless", "stopped-mid-run"} <= set(task.tags) for task in tasks)
