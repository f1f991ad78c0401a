"""`flows.build.build`, the way to build from Python (a notebook), holds what `leakless build` holds around
its flow: a Prefect server in its own session, which an interrupt sent to the caller's whole process group
(Jupyter's Interrupt button) does not reach, so the interrupt stops the build in seconds and the next build
in that process works; and the run's lock, so a second build of one run id is refused as the command
refuses it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from flows.build import build
from pipeline import prefect_server
from pipeline.config import load_config
from pipeline.run_lock import RunBusy
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer
from tests.build.test_interrupt import first_checkpoint
from tests.build.test_server_death import write_config

pytestmark = pytest.mark.slow  # builds in subprocesses, each with its Prefect server

ROOT = Path(__file__).resolve().parents[2]
RUN_ID = "ctrl-c"  # `first_checkpoint` waits on this run

# A kernel's cells: a build interrupted mid-flow, then another build in the same process.
KERNEL = """
import json, os, sys, time
from pathlib import Path
from pipeline.config import load_config
from flows.build import build

def servers_left():
    '''Prefect servers this process started that still run (exited ones not yet reaped count).'''
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (proc / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"uvicorn" in command:
            found.append(int(proc.name))
    return found

config, run_id, runs = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
try:
    build(load_config(config, []), run_id, show_progress=False)
    print(json.dumps({"interrupted": False}), flush=True)
except KeyboardInterrupt:
    print(json.dumps({"interrupted": True, "at": time.time(), "servers_left": servers_left()}), flush=True)
small = load_config(None, ["run.size=1", 'run.sub_categories=["Cybercrime"]', f'run.runs_dir="{runs}"'])
print(json.dumps({"after": build(small, "after", show_progress=False)}), flush=True)
"""


def kernel(config: Path, runs: Path, env: dict[str, str]) -> subprocess.Popen:
    """A Python process building `config` as RUN_ID, in its own process group as a Jupyter kernel is."""
    return subprocess.Popen([sys.executable, "-c", KERNEL, str(config), RUN_ID, str(runs)], cwd=ROOT, env=env,
                            start_new_session=True, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def environment() -> dict[str, str]:
    # No configured API: the build starts its own server, the one an interrupt used to reach.
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    return {**env, FAKE_KEY_ENV: "sk-python-build"}


def stop(process: subprocess.Popen) -> tuple[str, str]:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    return process.communicate()


def test_an_interrupt_to_the_whole_process_group_stops_the_build_and_the_next_build_works(tmp_path):
    runs = tmp_path / "runs"
    # Slow answers keep the rewrite stage running when the interrupt comes.
    with FakeOpenAIServer(latency_s=2.0) as server:
        config = write_config(tmp_path / "c.toml", server.base_url, runs, tmp_path / "llm.sqlite", max_retries=4)
        process = kernel(config, runs, environment())
        try:
            first_checkpoint(runs, process)
            os.killpg(process.pid, signal.SIGINT)  # what jupyter_client's interrupt sends
            interrupted = time.time()
            out, err = process.communicate(timeout=600)
        finally:
            stop(process)
    assert process.returncode == 0, err
    cells = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert cells[0]["interrupted"], out
    seconds = cells[0]["at"] - interrupted
    assert seconds < 30, f"the interrupt took {seconds:.0f} s to stop the build"
    assert cells[0]["servers_left"] == [], "the interrupted build's Prefect server still runs"
    after = cells[1]["after"]
    assert after["run_id"] == "after" and after["seeds"] > 0 and sum(after["states"].values()) == after["seeds"]
    assert not (runs / RUN_ID / "manifest.json").exists()  # interrupted, not finished


def test_a_second_python_build_of_a_run_being_built_is_refused_as_the_command_refuses_it(tmp_path):
    runs = tmp_path / "runs"
    with FakeOpenAIServer(latency_s=2.0) as server:
        config = write_config(tmp_path / "c.toml", server.base_url, runs, tmp_path / "llm.sqlite", max_retries=4)
        first = kernel(config, runs, environment())
        try:
            first_checkpoint(runs, first)  # the first build holds the run's lock: it is building
            with pytest.raises(RunBusy) as refused:
                build(load_config(config, []), RUN_ID, show_progress=False)
            assert first.poll() is None, "the first build ended before the second was tried"
        finally:
            out, err = stop(first)
    # the line `leakless build` prints after "error: " (tests/cli/test_run_lock.py)
    assert str(refused.value) == f"run {RUN_ID} is being built by another process (pid {first.pid}): wait for it to end"


def test_leaving_the_api_in_a_notebook_cell_waits_for_what_is_queued_without_a_warning(monkeypatch):
    """A notebook's cell runs where an event loop runs. There Prefect's `drain_all` only returns a
    coroutine to await: nothing was waited for, and each build printed two "coroutine ... was never
    awaited" warnings in the cell."""
    monkeypatch.setattr(prefect_server, "configured_api_url", lambda: None)  # the temporary server's case

    async def cell(server):
        with prefect_server.use(server):
            pass

    with prefect_server.prefect_api() as server, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(cell(server))
    assert [str(warning.message) for warning in caught if "never awaited" in str(warning.message)] == []


def test_a_python_build_names_its_start_up_before_the_first_bar(tmp_path):
    """The 20 s or more before the first bar (models, Prefect's server, the flow) showed nothing from Python,
    where `leakless build` shows a spinner: the spinner is drawn wherever the bars are (here a terminal, by
    Rich's own switch), and a log gets neither."""
    script = ("import sys\nfrom pipeline.config import load_config\nfrom flows.build import build\n"
              "small = load_config(None, ['run.size=1', 'run.sub_categories=[\"Cybercrime\"]', "
              "f'run.runs_dir=\"{sys.argv[1]}\"'])\nbuild(small, 'spinner', show_progress=True)\n")
    seen = {}
    for terminal in (True, False):
        env = {key: value for key, value in environment().items() if key != "TTY_COMPATIBLE"}
        if terminal:
            env["TTY_COMPATIBLE"] = "1"
        done = subprocess.run([sys.executable, "-c", script, str(tmp_path / f"runs-{terminal}")], cwd=ROOT,
                              env=env, text=True, capture_output=True, timeout=600)
        assert done.returncode == 0, done.stderr
        seen[terminal] = done.stderr
    step = "build: starting the models, Prefect's server and the flow"
    assert step in seen[True]
    assert seen[True].index(step) < seen[True].index("rewrite")  # before the bars, which follow it
    assert step not in seen[False] and "rewrite" not in seen[False]
