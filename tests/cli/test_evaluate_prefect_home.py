"""`leakless evaluate` checks Prefect's home as `build` does: one that cannot be written is one line
and exit 2 before any model is asked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import prefect_server
from pipeline.cli.app import app
from tests.support.evaluate_release import FAKE_KEY_ENV, models_file

READ_ONLY = Path("/proc/sys")  # root cannot make anything there either


@pytest.mark.skipif(not READ_ONLY.is_dir() or os.access(READ_ONLY, os.W_OK),
                    reason=f"{READ_ONLY} is missing or writable here (root in a privileged container "
                           "can write it): the test needs a folder that even root cannot write in")
def test_a_prefect_home_that_cannot_be_written_is_refused_before_the_models_are_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(prefect_server, "configured_api_url", lambda: None)  # the temporary server's case
    monkeypatch.setenv("PREFECT_HOME", str(READ_ONLY / "prefect"))
    monkeypatch.setenv(FAKE_KEY_ENV, "key")
    release = tmp_path / "bench-v1"
    release.mkdir()
    (release / "manifest.json").write_text("{}")
    models = models_file(tmp_path / "models.toml", "http://127.0.0.1:1/v1", {"m": "scripted-model"},
                         cache_path=tmp_path / "cache.sqlite")
    result = CliRunner().invoke(app, ["evaluate", str(release), "--models", str(models),
                                      "--out-dir", str(tmp_path / "evaluations")])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line == ("error: Prefect's home /proc/sys/prefect cannot be written: /proc/sys is not writable; "
                    "set PREFECT_HOME to a folder that can be written")
