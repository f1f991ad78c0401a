"""SIGTERM (what systemd, a cron or CI timeout and `kill` send) stops `leakless build` as Ctrl-C does:
one line naming the command that resumes it, exit 143 (128 + 15), its temporary Prefect server and its
LLM client's process stopped, nothing half-written; that command then finishes the run."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.testing.openai_server import FakeOpenAIServer
from tests.build.test_interrupt import RUN_ID, build_command, environment, first_checkpoint
from tests.build.test_server_death import write_config

pytestmark = pytest.mark.slow  # two builds in subprocesses


def descendants(pid: int) -> set[int]:
    """Live processes under `pid` (Linux /proc)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        parents[int(stat.parent.name)] = (int(fields[1]), fields[0])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_sigterm_stops_the_build_with_the_resume_line_exit_143_and_its_children(tmp_path):
    runs = tmp_path / "runs"
    with FakeOpenAIServer(latency_s=2.0) as server:  # slow answers: the rewrite stage is running
        config = write_config(tmp_path / "c.toml", server.base_url, runs, tmp_path / "llm.sqlite", max_retries=4)
        env = environment(tmp_path)
        build = subprocess.Popen(build_command(config), env=env, start_new_session=True, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first_checkpoint(runs, build)
        children = descendants(build.pid)  # the Prefect server, the LLM client's process
        os.kill(build.pid, signal.SIGTERM)  # the process alone, as `kill` and a timeout send it
        out, err = build.communicate(timeout=120)

        assert build.returncode == 128 + signal.SIGTERM, err
        notes = [line for line in err.splitlines() if not line.startswith("note: ")]
        resume = ["leakless", "build", "--config", str(config), "--run-id", RUN_ID]
        assert notes == [f"terminated; rerun with `{shlex.join(resume)}` to resume"], err
        assert len(children) >= 2
        deadline = time.monotonic() + 10
        while any(alive(child) for child in children):
            assert time.monotonic() < deadline, f"still running: {[c for c in children if alive(c)]}"
            time.sleep(0.1)
        assert not list((runs / RUN_ID).rglob(".*.tmp"))
        assert not (runs / RUN_ID / "manifest.json").exists()

        rerun = subprocess.run([sys.executable, "-m", "pipeline.cli", *resume[1:]], env=env, text=True,
                               capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert (runs / RUN_ID / "manifest.json").exists()


def test_a_task_the_signal_cancelled_leaves_no_console_line_of_its_own():
    """Caught mid-run, a task is cancelled by its runner and Prefect logs that as its crash (two ERROR
    lines before the one `terminated; ...` line, in one CI run of the test above); other task lines stay."""
    import logging

    from pipeline.cli.errors import _LinesTheCommandSays

    def record(name: str, message: str) -> logging.LogRecord:
        return logging.LogRecord(name, logging.ERROR, __file__, 1, message, None, None)

    quiet = _LinesTheCommandSays()
    assert not quiet.filter(record("prefect.task_runs", "Crash detected! Execution was interrupted by an "
                                   "unexpected exception: CancelledError: Task run cancelled by the task runner"))
    assert quiet.filter(record("prefect.task_runs", "Task run failed with exception: ValueError('bad')"))
