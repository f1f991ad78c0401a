"""`leakless serve`: a schedule's flow and its targets go together. A build schedule given a targets
file (flow = "extend" forgotten) would build the default config every night, the targets unread."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app  # importing the package registers every command

NEEDS_TARGETS = "flow 'extend' needs targets, and only it takes them"


def serve(tmp_path: Path, body: str, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    (tmp_path / "targets.toml").write_text('name = "bench"\n[targets]\n"Cybercrime" = 1\n')
    (tmp_path / "serve.toml").write_text(body)
    return CliRunner().invoke(app, ["serve", "--config", "serve.toml"])


@pytest.mark.parametrize("entry", ['targets = "targets.toml"\n', 'flow = "build"\ntargets = "targets.toml"\n',
                                   'flow = "extend"\n'])
def test_targets_without_the_extend_flow_or_extend_without_targets_is_one_line(tmp_path, monkeypatch, entry):
    result = serve(tmp_path, f'[[schedules]]\nname = "nightly"\ninterval_seconds = 60\n{entry}', monkeypatch)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"error: serve.toml: schedules.0: schedule 'nightly': {NEEDS_TARGETS}"


@pytest.mark.parametrize("seconds", [0, 4])
def test_an_interval_under_five_seconds_is_one_line(tmp_path, monkeypatch, seconds):
    result = serve(tmp_path, f'[[schedules]]\nname = "often"\ninterval_seconds = {seconds}\n', monkeypatch)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: serve.toml: schedules.0.interval_seconds: ")
    assert "greater than or equal to 5" in result.stderr and len(result.stderr.splitlines()) == 1
