"""A stage list that disagrees with `STAGE_ORDER` is a bug of the code: `leakless build` stops on it
once, before it locks or claims the run folder and before its flow runs, not in every task, its
retry and the flow. Making the stages first does not delay the refusal of a run another process builds."""

from __future__ import annotations

from types import SimpleNamespace

import pipeline.factory
from pipeline import run_lock
from pipeline.cli.build import make_stages
from pipeline.contracts import StageName
from pipeline.rundir import RunDir
from tests.cli.test_run_lock import RUN_ID, build, fake_flow, finished

# The leak filter's detector, without its models: what `LeakFilterStage` reads when it is made.
NO_MODELS_DETECTOR = SimpleNamespace(threshold=0.5, calibration=None, backend="stub", model="stub", version="stub")


def test_a_stage_order_mismatch_stops_the_build_once_before_the_run_folder_exists(tmp_path, monkeypatch):
    ran = []
    fake_flow(monkeypatch, lambda *args: ran.append(args))
    monkeypatch.setattr("pipeline.cli.build.make_stages", make_stages)  # the real one: it is what stops
    monkeypatch.setattr(pipeline.factory, "default_detector", lambda: NO_MODELS_DETECTOR)
    monkeypatch.setattr(pipeline.factory, "STAGE_ORDER",
                        tuple(name for name in pipeline.factory.STAGE_ORDER if name != StageName.harm_check))
    result = build(tmp_path)
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError), result.output
    assert "harm_check not in STAGE_ORDER" in str(result.exception)
    assert "harm_check" not in result.output  # no other traceback (a thread's, a task's) printed it
    assert not ran and not (tmp_path / "runs" / RUN_ID).exists()



def test_a_run_another_process_builds_is_refused_before_the_stages_are_made(tmp_path, monkeypatch):
    made = []
    fake_flow(monkeypatch, finished)
    monkeypatch.setattr("pipeline.cli.build.make_stages", lambda *_: made.append(1))
    with run_lock.held(RunDir(tmp_path / "runs", RUN_ID)):
        result = build(tmp_path)
    assert result.exit_code == 2 and "is being built by another process" in result.stderr, result.output
    assert not made  # refused at once, not after the models have loaded
