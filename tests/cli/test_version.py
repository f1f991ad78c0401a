"""`leakless --version`, as a bug report quotes it."""

from __future__ import annotations

import subprocess
from importlib import metadata

from typer.testing import CliRunner

from pipeline.cli import app


def test_version_names_the_package_its_commit_and_the_libraries():
    result = CliRunner().invoke(app, ["--version"])

    lines = result.output.splitlines()
    assert result.exit_code == 0, result.output
    assert lines[0] == f"leakless {metadata.version('leakless')}"
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    assert lines[1].startswith(f"code: git {commit}")
    assert f"torch {metadata.version('torch')}" in lines[3]


def test_an_installed_package_says_it_has_no_checkout(monkeypatch):
    monkeypatch.setattr("pipeline.cli.version.code_version", lambda: None)

    result = CliRunner().invoke(app, ["--version"])

    assert "code: installed package (no git checkout)" in result.output.splitlines()


def test_version_runs_before_any_command_and_ignores_what_follows():
    result = CliRunner().invoke(app, ["--version", "build", "--size", "abc"])

    assert result.exit_code == 0 and result.output.startswith("leakless ")
