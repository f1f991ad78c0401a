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


def test_a_missing_release_is_no_release_under_the_releases_folder(tmp_path):
    (tmp_path / "releases" / "bench-v1").mkdir(parents=True)
    missing = CliRunner().invoke(app, ["verify", "bench-v9", "--releases-dir", str(tmp_path / "releases")])
    assert missing.exit_code == 2
    assert missing.output == f"error: no release bench-v9: neither a folder nor a release under {tmp_path / 'releases'}\n"
    empty = CliRunner().invoke(app, ["verify", "bench-v1", "--releases-dir", str(tmp_path / "releases")])
    assert empty.exit_code == 2 and "bench-v1 is not a release (no manifest.json)" in empty.output


def test_a_run_or_release_folder_given_with_a_tilde_is_under_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "runs" / "half").mkdir(parents=True)
    (tmp_path / "rel").mkdir()
    run = CliRunner().invoke(app, ["review", "status", "~/runs/half", "--runs-dir", str(tmp_path / "elsewhere")])
    assert run.exit_code == 2 and run.output == f"error: {tmp_path}/runs/half is not a finished run (no data/ folder)\n"
    release = CliRunner().invoke(app, ["verify", "~/rel", "--releases-dir", str(tmp_path / "elsewhere")])
    assert release.exit_code == 2 and release.output == f"error: {tmp_path}/rel is not a release (no manifest.json)\n"
