"""Two builds of one run id: the second is refused at once (exit 2, one line naming the holder), and a
ConfigError met inside the flow is one line too, never a traceback.

The flow is a stand-in (`fake_flow`): these are the CLI's rules around it, with no Prefect server."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import run_lock
from pipeline.cli.app import app  # importing the package registers every command
from pipeline.config import ConfigError
from pipeline.rundir import RunDir

RUN_ID = "locked"


def fake_flow(monkeypatch, body):
    """`leakless build` runs `body(settings, run_id)` as its flow: no Prefect server, no models."""
    import flows.build
    import pipeline.prefect_server

    class Flow:
        def with_options(self, **_):
            return lambda settings, run_id, show_progress: body(settings, run_id)

    monkeypatch.setattr(flows.build, "build_flow", Flow())
    monkeypatch.setattr("pipeline.cli.build.make_stages", lambda *_: None)
    monkeypatch.setattr(pipeline.prefect_server, "prefect_api", lambda: contextlib.nullcontext(None))
    monkeypatch.setattr("pipeline.cli.build.reachable_api_url", lambda: "http://127.0.0.1:9/api")


def build(tmp_path: Path):
    return CliRunner().invoke(app, ["build", "--size", "1", "--set", f'run.runs_dir="{tmp_path / "runs"}"',
                                    "--run-id", RUN_ID, "--no-progress"])


def not_notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("note: ")]


def finished(settings, run_id) -> dict:
    return {"summary": "built", "run_dir": str(RunDir(settings.run.runs_dir, run_id).path),
            "retriable_failed": 0}


def test_a_build_of_a_run_another_process_builds_is_refused_in_one_line(tmp_path, monkeypatch):
    ran = []
    fake_flow(monkeypatch, lambda *args: ran.append(args) or finished(*args))
    with run_lock.held(RunDir(tmp_path / "runs", RUN_ID)):
        result = build(tmp_path)
    assert result.exit_code == 2, result.output
    assert not_notes(result.stderr) == [(f"error: run {RUN_ID} is being built by another process "
                                              f"(pid {os.getpid()}): wait for it to end")]
    assert "Traceback" not in result.output and not ran


def test_the_lock_is_held_while_the_flow_runs_and_dropped_after(tmp_path, monkeypatch):
    lock_file = tmp_path / "runs" / RUN_ID / ".lock"

    def locked_meanwhile(settings, run_id):
        with open(lock_file) as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return finished(settings, run_id)

    fake_flow(monkeypatch, locked_meanwhile)
    result = build(tmp_path)
    assert result.exit_code == 0, result.output
    with open(lock_file) as after:
        fcntl.flock(after, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again


def test_a_config_error_inside_the_flow_is_one_line_and_exit_2(tmp_path, monkeypatch):
    def refused(settings, run_id):
        raise ConfigError(f"run {run_id} exists with a different config (run.size: 4 -> 6); use a new "
                          "--run-id to build with this one\nsecond line")

    fake_flow(monkeypatch, refused)
    result = build(tmp_path)
    assert result.exit_code == 2, result.output
    assert not_notes(result.stderr) == [
        f"error: run {RUN_ID} exists with a different config (run.size: 4 -> 6); use a new --run-id to build "
        "with this one"], result.stderr
