"""A run made with a run.queries_per_seed above the offline seed query cores, before the preflight
refused that setting: the refusal names it and says how to finish it, and finishing it (the run
the user names) is let through with a note, as it was made; a new run with the setting is still
refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app  # importing the package registers every command
from pipeline.cli.preflight import check_build_ready
from pipeline.config import ConfigError, load_config
from pipeline.rundir import RunDir

TOO_MANY = "run.queries_per_seed=6"  # the offline cores allow at most 3 with every sub-category


def settings(runs: Path, *overrides: str):
    return load_config(None, ["run.size=1", f"run.runs_dir='{runs}'", TOO_MANY, *overrides])


@pytest.fixture
def runs(tmp_path) -> Path:
    """A runs folder holding run `old`, claimed as a leakless without the check claimed it."""
    folder = tmp_path / "runs"
    RunDir(folder, "old").claim(settings(folder))
    return folder


def test_the_refusal_names_the_run_made_before_the_check_and_how_to_finish_it(runs):
    result = CliRunner().invoke(app, ["build", "--size", "1", "--no-progress", "--set", f"run.runs_dir='{runs}'",
                                      "--set", TOO_MANY])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), (result.exception, result.output)
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output, result.output
    message = " ".join(result.output.split())
    assert "run.queries_per_seed = 6" in message and "at most 3" in message
    assert "run old was made with it before leakless checked this" in message
    assert "this command with `--run-id old` (the same --config and --set) finishes it" in message
    assert sorted(path.name for path in runs.iterdir()) == ["old"], "a refused build writes nothing"


def test_finishing_the_run_made_before_the_check_is_let_through_with_a_note(runs):
    notes = check_build_ready(settings(runs), RunDir(runs, "old"))
    assert len(notes) == 1
    assert notes[0].startswith("run old was made before leakless refused this setting (run.queries_per_seed = 6")
    assert "its seeds short of cores fail again" in notes[0]
    assert "build under a new --run-id with run.queries_per_seed at most 3" in notes[0]


def test_a_new_run_with_the_setting_is_still_refused(runs):
    with pytest.raises(ConfigError, match="run.queries_per_seed = 6.*sub-categories; run old was made with it"):
        check_build_ready(settings(runs), RunDir(runs, "new"))


def test_only_unfinished_runs_made_with_this_config_are_offered(runs, tmp_path):
    RunDir(runs, "other").claim(settings(runs, "rewrite.max_attempts=2"))
    (runs / "old" / "manifest.json").write_text("{}", encoding="utf-8")  # finished: nothing to finish
    with pytest.raises(ConfigError) as refused:
        check_build_ready(settings(runs), RunDir(runs, "new"))
    assert str(refused.value).endswith("at most 3 with the chosen sub-categories"), refused.value
    with pytest.raises(ConfigError, match="at most 3 with the chosen sub-categories$"):
        check_build_ready(settings(runs, "rewrite.max_attempts=1"), RunDir(runs, "other"))


@pytest.mark.slow
def test_leakless_build_finishes_the_run_made_before_the_check(prefect_harness, runs):
    result = CliRunner().invoke(app, ["build", "--size", "1", "--no-progress", "--run-id", "old",
                                      "--set", f"run.runs_dir='{runs}'", "--set", TOO_MANY])
    assert result.exit_code == 0, (result.exception, result.output)
    assert "note: run old was made before leakless refused this setting" in " ".join(result.stderr.split())
    assert (runs / "old" / "manifest.json").exists()
