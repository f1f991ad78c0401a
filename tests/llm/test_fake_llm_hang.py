"""`leakless fake-llm`'s "timeout" fault holds a request for --hang-s seconds, by default past the
client's default timeout: to a client that waits longer than the hang it is no timeout at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.contracts import ItemError
from pipeline.llm.client import LLMClient
from pipeline.llm.config import DEFAULT_TIMEOUT_S, LLMSettings
from pipeline.llm.roles import VSILJudgeInput
from pipeline.llm.session import Answer
from pipeline.testing.local_servers import free_port
from pipeline.testing.openai_server import FAKE_KEY_ENV

pytestmark = pytest.mark.slow  # a server process of its own, and a client that waits for its timeout


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "dry-run")


def fake_llm(*options: str) -> subprocess.Popen:
    """`leakless fake-llm` in its own process, every request a "timeout" fault, once it listens."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "fake-llm", "--port", str(port),
                               "--fault-rate", "1", "--faults", "timeout", *options])
    server.base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            urllib.request.urlopen(f"{server.base_url}/models", timeout=5).close()
            return server
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("leakless fake-llm did not start")


def ask_once(base_url: str, timeout_s: float) -> Answer | ItemError:
    settings = LLMSettings.model_validate({"endpoints": {"default": {
        "base_url": base_url, "api_key_env": FAKE_KEY_ENV, "timeout_s": timeout_s, "max_retries": 0}}, "cache": False})
    client = LLMClient(settings)
    try:
        return client.run_batch("vsil_judge", [VSILJudgeInput(query="Where is it kept?", image_description="a box")])[0]
    finally:
        client.close()


def stop(server: subprocess.Popen) -> None:
    os.kill(server.pid, signal.SIGINT)  # Ctrl-C
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.mark.parametrize("hang, answered", [((), False), (("--hang-s", "0.5"), True)], ids=["default", "short"])
def test_the_timeout_fault_holds_a_request_for_the_hang(hang, answered):
    server = fake_llm(*hang)
    try:
        result = ask_once(server.base_url, timeout_s=3.0)  # past the old fixed 2 s hang
    finally:
        stop(server)
    assert isinstance(result, Answer) == answered, result
    if not answered:
        assert "timeout: no answer within 3 s" in result.error


def test_the_default_hang_outlasts_the_clients_default_timeout_and_a_bad_one_is_refused():
    help_text = CliRunner().invoke(app, ["fake-llm", "--help"]).output
    default = float(help_text.split("--hang-s")[1].split("[default: ")[1].split("]")[0])
    assert default > DEFAULT_TIMEOUT_S
    for bad in ("0", "-1", "nan"):
        refused = CliRunner().invoke(app, ["fake-llm", "--hang-s", bad])
        assert refused.exit_code == 2 and len(refused.output.strip().splitlines()) == 1, refused.output
        assert "hang must be over 0 s" in refused.output
