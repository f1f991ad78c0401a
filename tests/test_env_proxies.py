"""A proxy in the environment (a corporate network's HTTP_PROXY) is never used for loopback: the temporary
Prefect server is on 127.0.0.1, which no proxy reaches, and Prefect's client follows the proxy variables,
so every build failed with a traceback ("Failed to reach API at http://127.0.0.1:.../api/")."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from pipeline.env import LOOPBACK_HOSTS, PROXY_VARIABLES, exempt_loopback_from_proxies
from tests.support import ROOT


@pytest.fixture
def clean_proxies(monkeypatch):
    for name in (*PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_with_a_proxy_set_loopback_joins_both_no_proxy_variables_keeping_what_either_held(clean_proxies):
    clean_proxies.setenv("HTTP_PROXY", "http://proxy.corp:3128")
    clean_proxies.setenv("NO_PROXY", "llm.internal")
    clean_proxies.setenv("no_proxy", "gpu-17.lab")
    exempt_loopback_from_proxies()
    expected = ",".join(["llm.internal", "gpu-17.lab", *LOOPBACK_HOSTS])
    assert os.environ["NO_PROXY"] == os.environ["no_proxy"] == expected
    exempt_loopback_from_proxies()  # once is enough: nothing repeats
    assert os.environ["NO_PROXY"] == expected


def test_a_no_proxy_of_star_is_left_alone(clean_proxies):
    # `*,127.0.0.1` is no wildcard to urllib: every request would have gone through the proxy
    clean_proxies.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    clean_proxies.setenv("NO_PROXY", "*")
    exempt_loopback_from_proxies()
    assert os.environ["NO_PROXY"] == "*" and "no_proxy" not in os.environ


def test_without_a_proxy_nothing_is_set(clean_proxies):
    exempt_loopback_from_proxies()
    assert "NO_PROXY" not in os.environ and "no_proxy" not in os.environ


PING_A_FLOW = """
from pipeline.prefect_server import prefect_api
from prefect import flow

@flow
def ping():
    return 7

with prefect_api() as server:
    server.wait_until_ready()
    print("answer", ping())
"""


@pytest.mark.slow  # a real server starts
def test_a_flow_runs_on_the_temporary_server_with_a_dead_proxy_in_the_environment(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_proxy = f"http://127.0.0.1:{probe.getsockname()[1]}"
    env = {key: value for key, value in os.environ.items()
           if key not in ("PREFECT_API_URL", "NO_PROXY", "no_proxy", *PROXY_VARIABLES)}
    done = subprocess.run([sys.executable, "-c", PING_A_FLOW], cwd=ROOT, capture_output=True, text=True,
                          env={**env, "PREFECT_HOME": str(tmp_path), "HTTP_PROXY": dead_proxy}, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "answer 7" in done.stdout
