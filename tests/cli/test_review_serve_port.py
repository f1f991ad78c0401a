"""`leakless review serve` with a port it cannot listen on: one `error:` line and exit 2 before the
detector loads, a port outside 0-65535 (an OverflowError, no OSError) included."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app


def review_serve(tmp_path, port: int):
    return CliRunner().invoke(app, ["review", "serve", "--runs-dir", str(tmp_path), "--port", str(port)])


@pytest.mark.parametrize("port", [70000, -1])
def test_a_port_out_of_range_is_one_line_and_exit_2(tmp_path, port):
    result = review_serve(tmp_path, port)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.output


def test_a_taken_port_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = review_serve(tmp_path, port)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert len(result.stderr.splitlines()) == 1
