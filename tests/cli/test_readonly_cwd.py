"""Commands run from a folder that cannot be written: Prefect's home (artifacts/prefect there by
default) is refused in one line before any model loads, a temporary server that does not start is
one line naming its kept log, and `extend` checks the runs folder its run really goes to.

The tests run as root, which chmod cannot stop: /proc/sys is a folder nobody can make anything in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pipeline import prefect_server
from pipeline.cli.app import app
from pipeline.cli.errors import environment_errors
from pipeline.cli.preflight import check_prefect_home

READ_ONLY = Path("/proc/sys")
pytestmark = pytest.mark.skipif(not READ_ONLY.is_dir() or os.access(READ_ONLY, os.W_OK),
                                reason=f"{READ_ONLY} is missing or writable here (root in a privileged container "
                                       "can write it): the test needs a folder that even root cannot write in")


@pytest.fixture()
def no_api(monkeypatch):
    monkeypatch.setattr(prefect_server, "configured_api_url", lambda: None)


class FlowStarted(Exception):
    """Raised where the flow would start: every check before it passed."""


@pytest.fixture()
def flow_never_starts(monkeypatch):
    def start_flow():
        raise FlowStarted

    monkeypatch.setattr(prefect_server, "prefect_api", start_flow)


def targets_file(tmp_path: Path, runs_dir: Path) -> Path:
    targets = tmp_path / "t.toml"
    targets.write_text(f"name = 'bench'\nruns_dir = '{runs_dir}'\nreleases_dir = '{tmp_path / 'releases'}'\n"
                       "[targets]\nCybercrime = 3\n")
    return targets


def test_a_prefect_home_that_cannot_be_written_is_refused_naming_the_variables(monkeypatch, no_api):
    monkeypatch.setenv("PREFECT_HOME", str(READ_ONLY / "artifacts" / "prefect"))
    with pytest.raises(ValueError, match=r"Prefect's home /proc/sys/artifacts/prefect cannot be written: "
                                         r"/proc/sys is not writable; set PREFECT_HOME"):
        check_prefect_home()


def test_a_configured_api_needs_no_prefect_home(monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(READ_ONLY / "artifacts" / "prefect"))
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")
    check_prefect_home()


def test_a_server_that_does_not_start_is_one_line_naming_its_kept_log(monkeypatch, capsys):
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "0")
    server = prefect_server.LocalServer()
    try:
        with pytest.raises(typer.Exit) as stopped, environment_errors():
            server.wait_until_ready()
    finally:
        server.stop()
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert stopped.value.exit_code == 2
    assert line.startswith("error: Prefect's temporary server did not answer within 0 s")
    assert line.endswith(f"its log: {server.kept_log}") and Path(server.kept_log).is_file()
    Path(server.kept_log).unlink()


@pytest.mark.slow
def test_a_server_that_exits_is_one_line_with_its_reason(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", f"sqlite+aiosqlite:///{READ_ONLY}/prefect.db")
    server = prefect_server.LocalServer()
    try:
        with pytest.raises(typer.Exit), environment_errors():
            server.wait_until_ready()
    finally:
        server.stop()
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: Prefect's temporary server exited with code ")
    assert "unable to open database file" in line and line.endswith(f"its log: {server.kept_log}")
    assert "Traceback" in Path(server.kept_log).read_text()
    Path(server.kept_log).unlink()


@pytest.mark.slow
def test_build_from_a_read_only_folder_is_one_line_exit_2_before_the_models_load(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in ("LEAKLESS_ARTIFACTS", "PREFECT_HOME", "PREFECT_API_URL", "PREFECT_PROFILES_PATH")}
    runs = tmp_path / "runs"
    build = subprocess.run([sys.executable, "-m", "pipeline.cli", "build", "--size", "1", "--no-progress",
                            "--set", 'run.categories=["Privacy"]', "--set", f"run.runs_dir='{runs}'"],
                           cwd=READ_ONLY, env=env, capture_output=True, text=True, timeout=600)
    assert build.returncode == 2, build.stderr
    (line,) = build.stderr.strip().splitlines()
    assert line == ("error: Prefect's home /proc/sys/artifacts/prefect cannot be written: /proc/sys is not "
                    "writable; set PREFECT_HOME, or LEAKLESS_ARTIFACTS (the home is its prefect/ by default), "
                    "to a folder that can be written")
    assert not runs.exists()


def test_extend_checks_the_targets_runs_folder_not_the_build_configs(tmp_path, monkeypatch, no_api,
                                                                      flow_never_starts):
    """From a read-only folder, the build config's default artifacts/runs cannot be written, but
    the targets' runs_dir, where the run goes, can: the checks pass and the flow starts."""
    monkeypatch.chdir(READ_ONLY)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    result = CliRunner().invoke(app, ["extend", "--targets", str(targets_file(tmp_path, tmp_path / "runs"))])
    assert isinstance(result.exception, FlowStarted), result.output


def test_extend_refuses_targets_whose_runs_folder_cannot_be_written(tmp_path, monkeypatch, flow_never_starts):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["extend", "--targets", str(targets_file(tmp_path, READ_ONLY / "runs"))])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line == "error: run.runs_dir /proc/sys/runs cannot be written: /proc/sys is not writable"
