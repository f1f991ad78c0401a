"""mut8: the threads runner's stop: Ctrl-C and Prefect's SIGTERM (TerminationSignal) leaving a flow stop its
stages, any other failure lets them finish, and a new flow after a stopped one runs its stages again."""

from __future__ import annotations

import pytest
from prefect.exceptions import TerminationSignal

from pipeline.config import load_config
from pipeline.runners import make_task_runner
from pipeline.stopping import clear_stop, request_stop, stop_requested


@pytest.fixture(autouse=True)
def no_stop_left():
    clear_stop()
    yield
    clear_stop()


def runner():
    return make_task_runner(load_config(None, ["runner.max_workers=1"]).runner)


@pytest.mark.parametrize("signal", [KeyboardInterrupt(), TerminationSignal(signal=15)])
def test_a_signal_leaving_the_flow_stops_its_stages(signal):
    with pytest.raises(type(signal)):
        with runner():
            raise signal
    assert stop_requested()


def test_a_flow_failing_otherwise_lets_its_stages_finish():
    with pytest.raises(ValueError):
        with runner():
            raise ValueError("a stage failed")
    assert not stop_requested()


def test_a_flow_after_a_stopped_one_runs_its_stages():
    """A notebook's next build_flow after Ctrl-C: its stages would all raise StageStopped at once."""
    request_stop()
    with runner():
        assert not stop_requested()
