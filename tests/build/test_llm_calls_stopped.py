"""A build stopped during its LLM stage keeps what it sent in the run's record (`llm_calls/`): SIGTERM
and Ctrl-C write the process's file as the stage stops, and SIGKILL loses at most the last moment's
calls, so summary.md's LLM table, added up over every build process of the run, counts what the
server was sent."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer
from tests.build.test_interrupt import build_command, environment

pytestmark = pytest.mark.slow  # two builds in subprocesses

RUN_ID = "ctrl-c"  # build_command's
WAIT_S = 300


def write_config(path: Path, base_url: str, runs: Path, cache: Path) -> Path:
    """An LLM rewriter, judge and harm check sent one request at a time, so the LLM stages run for seconds."""
    path.write_text(f"""
[run]
size = 1
sub_categories = ["Cybercrime"]
runs_dir = "{runs}"
[backends]
rewriter = "llm"
vsil_judge = "llm"
harm_check = "llm"
[llm]
cache_path = "{cache}"
[llm.endpoints.default]
base_url = "{base_url}"
api_key_env = "{FAKE_KEY_ENV}"
max_in_flight = 1
max_retries = 0
""")
    return path


def summary_requests(summary: str) -> dict[str, int]:
    table = summary.split("## LLM calls", 1)[1]
    return {role: int(requests) for role, requests in re.findall(r"^\| (\w+) \| \d+ \| (\d+) \|", table, re.MULTILINE)
            if role != "role"}


def wait_until(condition, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{what} not within {WAIT_S} s"
        time.sleep(0.05)


def rewritten(run: Path) -> bool:
    return bool(list(run.glob("batches/*/rewrite.json")))


def recorded_requests(run: Path) -> int:
    total = 0
    for path in (run / "llm_calls").glob("*.json"):
        try:
            total += sum(usage["requests"] for usage in json.loads(path.read_text()).values())
        except (OSError, ValueError):  # a file being replaced
            pass
    return total


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda stop: stop.name)
def test_a_build_stopped_mid_llm_stage_keeps_its_calls_in_the_summary(tmp_path, stop):
    runs = tmp_path / "runs"
    run = runs / RUN_ID
    with FakeOpenAIServer(latency_s=0.5) as server:
        config = write_config(tmp_path / "c.toml", server.base_url, runs, tmp_path / "llm.sqlite")
        env = environment(tmp_path)
        build = subprocess.Popen(build_command(config), env=env, start_new_session=True, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            if stop == signal.SIGKILL:  # what was answered by now is on disk while the stage still runs
                wait_until(lambda: recorded_requests(run) >= 1 and not rewritten(run), build,
                           "a request recorded mid-rewrite")
            else:
                wait_until(lambda: server.state.requests["leak_rewriter"] >= 2, build, "two rewrites")
            os.killpg(build.pid, stop) if stop == signal.SIGINT else os.kill(build.pid, stop)
            build.communicate(timeout=120)
        finally:
            if build.poll() is None:
                os.killpg(build.pid, signal.SIGKILL)
                build.communicate()
        assert build.returncode == {signal.SIGTERM: 143, signal.SIGINT: 130, signal.SIGKILL: -9}[stop]
        assert not rewritten(run), "stopped mid-rewrite"
        stopped_sent = sum(server.state.requests.values())
        stopped_recorded = recorded_requests(run)
        assert stopped_recorded > 0, "the stopped process left no llm_calls/ file"

        rerun = subprocess.run(build_command(config), env=env, text=True, capture_output=True, timeout=WAIT_S)
        assert rerun.returncode == 0, rerun.stderr
        sent = dict(server.state.requests)

    counted = summary_requests((run / "summary.md").read_text())
    if stop == signal.SIGKILL:  # at most what was in flight, or answered since the file's last rewrite
        assert stopped_recorded <= stopped_sent
        assert sum(sent.values()) - stopped_sent + stopped_recorded == sum(counted.values())
    else:
        assert stopped_recorded == stopped_sent
        assert counted == {role: n for role, n in sent.items() if n}
