"""A run id is one folder name: one holding a slash (a nested folder, or one that climbs out of
run.runs_dir past the leading-dot check) is one `error:` line and exit 2, and nothing is written."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app  # importing the package registers every command
from pipeline.config import ConfigError
from pipeline.rundir import RunDir


@pytest.mark.parametrize("run_id", ["nightly/2024", "x/../../escaped", "x/"])
def test_a_run_id_with_a_slash_is_refused(tmp_path, monkeypatch, run_id):
    with pytest.raises(ConfigError, match="invalid run id"):
        RunDir(tmp_path / "runs", run_id)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["build", "--size", "1", "--no-progress", "--set",
                                      f"run.runs_dir='{tmp_path / 'runs'}'", "--run-id", run_id])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: invalid run id {run_id!r}\n"
    assert list(tmp_path.iterdir()) == [], "a refused build writes nothing"
