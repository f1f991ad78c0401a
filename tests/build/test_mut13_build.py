"""mut13: the build session's refusals before the models load, and the LLM-calls record of stages that overlap
(quick: no Prefect server, no models)."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack

import pytest

from pipeline import run_lock
from pipeline.build_session import BuildSession
from pipeline.config import ConfigError, load_config
from pipeline.llm import recording
from pipeline.llm.accounting import Accounting
from pipeline.llm.recording import SpendingRecord
from pipeline.rundir import RunDir
from pipeline.storage import atomic_write_json


def settings(tmp_path, size: int = 1):
    return load_config(None, [f'run.runs_dir="{tmp_path / "runs"}"', f"run.size={size}"])


def test_a_run_another_process_builds_is_refused_before_the_models_load(tmp_path):
    config = settings(tmp_path)
    run = RunDir(config.run.runs_dir, "busy")
    run.path.mkdir(parents=True)
    loaded = []
    with run_lock.held(run), ExitStack() as holding, pytest.raises(run_lock.RunBusy):
        BuildSession(run, None, holding).hold(config, loading=lambda: loaded.append(True))
    assert loaded == []


def test_a_run_made_with_another_config_is_refused_as_the_python_build_holds_it(tmp_path):
    made = settings(tmp_path, size=1)
    run = RunDir(made.run.runs_dir, "made")
    run.path.mkdir(parents=True)
    atomic_write_json(run.config_record, made.model_dump(mode="json"))
    with ExitStack() as holding, pytest.raises(ConfigError, match="exists with a different config"):
        BuildSession(run, None, holding).hold(settings(tmp_path, size=2))


def test_the_record_keeps_being_rewritten_while_another_stage_still_works(tmp_path, monkeypatch):
    monkeypatch.setattr(recording, "WRITE_EVERY_S", 0.05)
    accounting = Accounting()
    record = SpendingRecord(tmp_path / "calls.json", accounting)
    with record.kept_during():
        with record.kept_during():  # a second batch's stage, ending first
            accounting.add("rewriter", requests=1)
        accounting.add("rewriter", requests=1)  # the first stage goes on sending
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if json.loads((tmp_path / "calls.json").read_text())["rewriter"]["requests"] == 2:
                break
            time.sleep(0.05)
        assert json.loads((tmp_path / "calls.json").read_text())["rewriter"]["requests"] == 2
