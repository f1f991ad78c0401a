"""`leakless serve`: a cron Prefect accepts but that means something else is refused, one line, exit 2,
before anything is registered: six fields (Prefect reads the 6th as seconds: `0 3 * * * *` fires 60
times a night) and a date that never comes (`0 3 31 2 *`)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app  # importing the package registers every command


def serve(tmp_path, cron: str, monkeypatch):
    """A file the cron check passes stops only at the missing PREFECT_API_URL."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    (tmp_path / "serve.toml").write_text(f'[[schedules]]\nname = "nightly"\ncron = "{cron}"\n')
    return CliRunner().invoke(app, ["serve", "--config", "serve.toml"])


@pytest.mark.parametrize(("cron", "message"), [
    ("0 3 * * * *", "cron '0 3 * * * *' has 6 fields; give 5 (minute hour day month weekday): "
                    "Prefect would read a 6th as seconds"),
    ("0 3 31 2 *", "cron '0 3 31 2 *' never fires"),
])
def test_a_cron_that_would_not_fire_as_meant_is_one_line(tmp_path, monkeypatch, cron, message):
    result = serve(tmp_path, cron, monkeypatch)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: serve.toml: schedules.0.cron: ") and line.endswith(message), line


@pytest.mark.parametrize("cron", ["0 3 * * *", "@daily", "0 0 29 2 *"])
def test_a_five_field_cron_that_fires_is_accepted(tmp_path, monkeypatch, cron):
    result = serve(tmp_path, cron, monkeypatch)
    assert "PREFECT_API_URL is not set" in result.stderr, result.stderr
