"""A firing whose build lost the Prefect server failed with Prefect's own words only
("ConcurrencySlotAcquisitionError: Unable to acquire concurrency slots ..."), nothing saying the server
was lost or that the run goes on (ops audit): its failed state now says both, naming the run."""

from __future__ import annotations

import httpx
import pytest
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError

import flows.scheduled
from pipeline.rundir import RunDir


class LosingBuildFlow:
    """Stands in for build_flow: loses the server the way Prefect reports it."""

    def __init__(self, error):
        self.error = error

    def with_options(self, **_):
        return self

    def __call__(self, config, run_id, show_progress):
        RunDir(config.run.runs_dir, run_id).claim(config)
        raise self.error


@pytest.mark.parametrize("error", [
    ConcurrencySlotAcquisitionError("Unable to acquire concurrency slots on ['tag:leakless']"),
    httpx.ConnectError("All connection attempts failed"),
])
def test_a_firing_that_lost_the_server_says_so_and_that_the_run_goes_on(monkeypatch, tmp_path, error):
    monkeypatch.setattr(flows.scheduled, "build_flow", LosingBuildFlow(error))
    state = flows.scheduled.scheduled_build.fn(None, ["run.size=1", f"run.runs_dir='{tmp_path}'"])
    [run] = [path.name for path in tmp_path.iterdir() if not path.name.startswith(".")]
    assert state.is_failed(), state
    assert state.message.startswith(f"lost the Prefect server during run {run} ({type(error).__name__}: ")
    assert state.message.endswith("the next firing of this schedule carries the run on")


def test_any_other_error_is_left_to_prefect(monkeypatch, tmp_path):
    monkeypatch.setattr(flows.scheduled, "build_flow", LosingBuildFlow(RuntimeError("a bug")))
    with pytest.raises(RuntimeError, match="a bug"):
        flows.scheduled.scheduled_build.fn(None, ["run.size=1", f"run.runs_dir='{tmp_path}'"])
