"""`leakless serve` asks the Prefect server before it says it serves anything."""

from __future__ import annotations

import socket

from typer.testing import CliRunner

from pipeline.cli.app import app


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_server_is_one_line_exit_2_before_serving(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = f"http://127.0.0.1:{closed_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", url)
    (tmp_path / "serve.toml").write_text('[[schedules]]\nname = "nightly"\ninterval_seconds = 60\n')
    result = CliRunner().invoke(app, ["serve", "--config", "serve.toml"])
    assert result.exit_code == 2, result.output
    assert "serving" not in result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"error: cannot reach the Prefect server at {url}: ")
