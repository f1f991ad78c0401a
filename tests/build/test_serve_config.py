"""`leakless serve` without a server: what it refuses at start (one line, exit 2) and how it builds
its deployments; a scheduled build runs on the config's [runner]."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from prefect.client.schemas.objects import ConcurrencyLimitStrategy
from prefect_dask import DaskTaskRunner
from typer.testing import CliRunner

import flows.scheduled
from pipeline.cli.app import app  # importing the package registers every command
from pipeline.cli.errors import user_errors
from pipeline.cli.serve import check_entry, deployment
from pipeline.schedules import load_serve_config


def serve(tmp_path: Path, body: str, monkeypatch):
    """`leakless serve` on `body` with no Prefect server: a file it accepts stops only at the
    missing PREFECT_API_URL."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    (tmp_path / "serve.toml").write_text(body)
    return CliRunner().invoke(app, ["serve", "--config", "serve.toml"])


def targets_file(tmp_path: Path, extra: str = "") -> str:
    (tmp_path / "targets.toml").write_text(
        f'name = "bench"\nruns_dir = "{tmp_path}/runs"\nreleases_dir = "{tmp_path}/releases"\n{extra}'
        '[targets]\n"Cybercrime" = 1\n')
    return "targets.toml"


def extend_schedule(targets: str, extra: str = "") -> str:
    return f'[[schedules]]\nname = "grow"\nflow = "extend"\ninterval_seconds = 60\ntargets = "{targets}"\n{extra}'


def test_two_schedules_with_one_name_are_refused(tmp_path, monkeypatch):
    body = '[[schedules]]\nname = "dup2"\ninterval_seconds = 60\n' * 2
    result = serve(tmp_path, body, monkeypatch)
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: serve.toml: schedules: schedule 'dup2' appears twice; "
                                     "give each schedule its own name")


@pytest.mark.parametrize(("entry", "message"), [
    ('config = "nope.toml"\n', "config file not found: nope.toml"),
    ('flow = "extend"\ntargets = "gone.toml"\n', "targets file not found: gone.toml"),
])
def test_a_schedules_missing_file_names_the_folder_it_was_read_against(tmp_path, monkeypatch, entry, message):
    result = serve(tmp_path, f'[[schedules]]\nname = "grow"\ninterval_seconds = 60\n{entry}', monkeypatch)
    assert result.exit_code == 2
    assert result.stderr.strip().endswith(
        f"schedule 'grow': {message} (relative to the working directory {tmp_path})")


@pytest.mark.parametrize(("targets_extra", "message"), [
    ('config = "nope.toml"\n', "schedule 'grow': config file not found: nope.toml (relative to the working "
                               "directory {tmp_path})"),
    ('overrides = ["run.sizes=2"]\n', "schedule 'grow': override run.sizes: unknown key (did you mean run.size?)"),
])
def test_the_targets_files_own_config_is_checked_at_start(tmp_path, monkeypatch, targets_extra, message):
    result = serve(tmp_path, extend_schedule(targets_file(tmp_path, targets_extra)), monkeypatch)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {message.format(tmp_path=tmp_path)}"


def test_each_deployment_runs_one_flow_run_at_a_time(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "serve.toml").write_text(
        '[[schedules]]\nname = "nightly"\ncron = "0 3 * * *"\n' + extend_schedule(targets_file(tmp_path)))
    for entry in load_serve_config(tmp_path / "serve.toml").schedules:
        check_entry(entry)  # a good file passes the start-up check
        built = deployment(entry)
        assert built.name == entry.name
        assert built.concurrency_limit == 1
        assert built.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW


class RecordingBuildFlow:
    """Stands in for build_flow: records the task runner it is given, builds nothing."""

    def __init__(self):
        self.task_runner = None

    def with_options(self, task_runner=None, **_):
        self.task_runner = task_runner
        return self

    def __call__(self, config, run_id, show_progress):
        return {"run_id": run_id, "run_dir": "", "states": {}, "seeds": 0}


def test_a_scheduled_build_runs_on_the_configs_runner(monkeypatch, tmp_path):
    recording = RecordingBuildFlow()
    monkeypatch.setattr(flows.scheduled, "build_flow", recording)
    flows.scheduled.scheduled_build.fn(None, ["runner.kind='dask'", "runner.max_workers=3",
                                              f"run.runs_dir='{tmp_path}'"])
    assert isinstance(recording.task_runner, DaskTaskRunner)
    assert recording.task_runner.cluster_kwargs["n_workers"] == 3


def test_a_file_where_a_folder_goes_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(typer.Exit) as stopped, user_errors():
        (tmp_path / "notes.txt" / "runs").mkdir(parents=True)
    assert stopped.value.exit_code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and "Not a directory" in line and "notes.txt/runs" in line


@pytest.mark.parametrize(("body", "message"), [
    ('[[schedules]]\nname = "grow"\ninterval_seconds = "300"\n', "schedules.0.interval_seconds: Input should be a valid integer"),
    ('[[schedules]]\nname = "grow"\ninterval_seconds = 300.0\n', "schedules.0.interval_seconds: Input should be a valid integer"),
    (extend_schedule("targets.toml").replace('flow = "extend"', "flow = true"), "schedules.0.flow: Input should be 'build' or 'extend'"),
])
def test_a_value_of_another_type_in_the_schedules_file_is_refused_not_converted(tmp_path, monkeypatch, body, message):
    targets_file(tmp_path)
    result = serve(tmp_path, body, monkeypatch)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_target_count_written_as_text_is_refused(tmp_path, monkeypatch):
    targets = targets_file(tmp_path)
    (tmp_path / targets).write_text((tmp_path / targets).read_text().replace('"Cybercrime" = 1', '"Cybercrime" = "1"'))
    result = serve(tmp_path, extend_schedule(targets), monkeypatch)
    assert result.exit_code == 2
    assert "targets.Cybercrime: Input should be a valid integer" in result.stderr
