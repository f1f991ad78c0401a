"""`leakless serve` against a real `prefect server start`: a short schedule fires and a run completes;
Ctrl-C during the next firing cancels it on the server (no run left Running to hold the deployment's
slot) and exits 130 with one line naming it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return None


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_a_short_schedule_fires_and_completes(tmp_path):
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": api}
    env.pop("PREFECT_SERVER_EPHEMERAL_ENABLED", None)
    serve_file = tmp_path / "serve.toml"
    serve_file.write_text(
        '[[schedules]]\nname = "tiny"\ninterval_seconds = 10\n'
        f'overrides = ["run.size=1", "run.categories=[\'Privacy\']", "run.runs_dir=\'{tmp_path}/runs\'"]\n')
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, cwd=ROOT, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runner = None
    try:
        healthy = wait_for(lambda: _ok(f"{api}/health"), timeout=90)
        assert healthy, "prefect server did not become healthy"
        runner = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "serve", "--config", str(serve_file)],
                                  env=env, cwd=ROOT, start_new_session=True, text=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        completed = wait_for(lambda: _completed_runs(api), timeout=150, every=2)
        assert completed, "no scheduled run completed"
        assert completed[0]["deployment_id"] is not None
        manifests = list((tmp_path / "runs").glob("*/manifest.json"))
        assert manifests

        assert wait_for(lambda: _runs(api, "RUNNING"), timeout=60, every=0.2), "no second firing"
        os.killpg(runner.pid, signal.SIGINT)  # as a terminal's Ctrl-C does
        _, err = runner.communicate(timeout=60)
        assert runner.returncode == 130, err
        assert err.strip().splitlines()[-1].startswith("interrupted: tiny-"), err
        assert not _runs(api, "RUNNING"), "a flow run left Running holds the deployment's slot"
    finally:
        if runner is not None:
            stop(runner)
        stop(server)


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _completed_runs(api: str) -> list[dict]:
    return _runs(api, "COMPLETED")


def _runs(api: str, state: str) -> list[dict]:
    body = {"flow_runs": {"state": {"type": {"any_": [state]}}}, "limit": 5}
    try:
        response = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=5)
    except httpx.HTTPError:
        return []
    return [run for run in response.json() if run.get("deployment_id")] if response.status_code == 200 else []
