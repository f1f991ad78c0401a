"""The temporary Prefect server a build starts for itself: it answers, it stops, it dies with
its parent, and it is not started when an API is configured."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from pipeline import prefect_server
from pipeline.env import profile_api_url
from pipeline.prefect_server import LocalServer

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_server_answers_and_stops(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    server = LocalServer()
    try:
        server.wait_until_ready()
        with urllib.request.urlopen(f"{server.api_url}/health", timeout=5) as response:
            assert json.loads(response.read()) is True
    finally:
        server.stop()
    assert server.process.poll() is not None


@pytest.mark.skipif(sys.platform != "linux", reason="parent-death signal is Linux only")
def test_server_dies_with_a_killed_parent(tmp_path):
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "from pipeline.prefect_server import LocalServer; import time; "
         "s = LocalServer(); print(s.process.pid, flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PREFECT_HOME": str(tmp_path)},
    )
    server_pid = int(parent.stdout.readline())
    assert _alive(server_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert _wait_gone(server_pid), "the temporary server outlived its SIGKILLed parent"


def test_no_server_when_a_profile_names_an_api(tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('active = "remote"\n[profiles.remote]\nPREFECT_API_URL = "http://10.0.0.1:4200/api"\n')
    monkeypatch.setenv("PREFECT_PROFILES_PATH", str(profiles))
    assert profile_api_url() == "http://10.0.0.1:4200/api"
    monkeypatch.setenv("PREFECT_PROFILE", "missing")
    assert profile_api_url() is None


def test_no_server_when_an_api_is_configured(monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")
    with prefect_server.prefect_api() as server:
        assert server is None


def test_leaving_the_context_stops_the_server_without_waiting_for_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.setattr(prefect_server, "configured_api_url", lambda: None)
    with prefect_server.prefect_api() as server:
        server.wait_until_ready()
        pid = server.process.pid
    assert _wait_gone(pid), "the temporary server kept running after the command was done"
