"""A run that is not there is named as missing, not as a run left unfinished (which sends the user
looking for a data/ folder when the runs folder or the run id was mistyped)."""

from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli import app


def test_a_missing_run_or_runs_folder_is_no_run_under_it(tmp_path):
    (tmp_path / "runs" / "half").mkdir(parents=True)
    for runs_dir, run in ((tmp_path / "typo", "nosuch"), (tmp_path / "runs", "nosuch")):
        result = CliRunner().invoke(app, ["review", "status", run, "--runs-dir", str(runs_dir)])
        assert result.exit_code == 2
        assert result.output == f"error: no run nosuch under {runs_dir}\n"
    unfinished = CliRunner().invoke(app, ["review", "status", "half", "--runs-dir", str(tmp_path / "runs")])
    assert unfinished.exit_code == 2 and "is not a finished run (no data/ folder)" in unfinished.output
