"""`leakless serve` stopped while a firing ran: Ctrl-C exits 130, SIGTERM 143, as every other command."""

from __future__ import annotations

import signal
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

import pipeline.cli.serve as serve_module
import pipeline.env
from pipeline.cli.app import app
from pipeline.cli.errors import INTERRUPTED, TERMINATED


@pytest.mark.parametrize("stop_signal, code, word", [(signal.SIGINT, INTERRUPTED, "interrupted"),
                                                     (signal.SIGTERM, TERMINATED, "terminated")])
def test_a_stopped_serve_exits_with_its_signals_code(tmp_path, monkeypatch, stop_signal, code, word):
    schedules = tmp_path / "serve.toml"
    schedules.write_text('[[schedules]]\nname = "nightly"\ninterval_seconds = 60\n')
    monkeypatch.setattr(pipeline.env, "user_api_url", lambda: "http://127.0.0.1:1/api")
    monkeypatch.setattr(serve_module, "check_entry", lambda entry: None)
    monkeypatch.setattr(serve_module, "deployment", lambda entry: entry.name)
    monkeypatch.setattr(serve_module, "check_server_reachable", lambda url: None)
    monkeypatch.setattr(serve_module, "left_paused", lambda url, in_file: [])
    monkeypatch.setattr(serve_module, "firing_names", lambda ids, url: ["nightly-0300"])
    monkeypatch.setattr(serve_module, "serve_until_stopped",
                        lambda deployments: SimpleNamespace(interrupted=frozenset({"run-1"}), stop_signal=stop_signal))
    result = CliRunner().invoke(app, ["serve", "--config", str(schedules)])
    assert result.exit_code == code, result.output
    assert f"{word}: nightly-0300 cancelled" in result.output
