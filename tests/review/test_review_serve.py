"""`leakless review serve` on a port it cannot listen on: one line, exit 2, before the detector loads."""

from __future__ import annotations

import socket

from typer.testing import CliRunner

import pipeline.review.app
from pipeline.cli.app import app


def test_a_taken_port_is_one_line_and_exit_2_before_the_detector_loads(tmp_path, monkeypatch):
    def create_app(*args, **kwargs):
        raise AssertionError("the app (and its detector) was built before the port was checked")

    monkeypatch.setattr(pipeline.review.app, "create_app", create_app)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["review", "serve", "--runs-dir", str(tmp_path), "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert result.output == f"error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
