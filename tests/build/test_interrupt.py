"""Ctrl-C on `leakless build` stops it within seconds with one line naming the command that resumes
it, exit 130, nothing half-written; that command then finishes the run."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer
from tests.build.test_server_death import write_config

pytestmark = pytest.mark.slow  # two builds in subprocesses

RUN_ID = "ctrl-c"
TERMINAL = {"accepted", "rejected", "blocked", "failed"}


def build_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", "build", "--config", str(config), "--run-id", RUN_ID,
            "--no-progress"]


def environment(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    # The build starts its own Prefect server, the one a terminal's Ctrl-C used to reach too.
    return {**env, FAKE_KEY_ENV: "sk-interrupt", "PREFECT_HOME": str(tmp_path / "prefect")}


def first_checkpoint(runs: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 300
    while not list((runs / RUN_ID).glob("batches/*/drafts.json")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint within 300 s"
        time.sleep(0.1)


def test_ctrl_c_stops_the_build_in_seconds_with_one_line_and_the_rerun_finishes(tmp_path):
    runs = tmp_path / "runs"
    # Slow answers keep the rewrite stage running when Ctrl-C comes.
    with FakeOpenAIServer(latency_s=2.0) as server:
        config = write_config(tmp_path / "c.toml", server.base_url, runs, tmp_path / "llm.sqlite", max_retries=4)
        env = environment(tmp_path)
        # Its own process group, which a terminal's Ctrl-C signals as a whole.
        build = subprocess.Popen(build_command(config), env=env, start_new_session=True, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first_checkpoint(runs, build)
        os.killpg(build.pid, signal.SIGINT)
        interrupted = time.monotonic()
        out, err = build.communicate(timeout=120)
        seconds = time.monotonic() - interrupted

        assert build.returncode == 130, err
        assert seconds < 30, f"took {seconds:.0f} s to stop"
        notes = [line for line in err.splitlines() if not line.startswith("note: ")]
        resume = ["leakless", "build", "--config", str(config), "--run-id", RUN_ID]
        assert notes == [f"interrupted; rerun with `{shlex.join(resume)}` to resume"], err
        assert not list((runs / RUN_ID).rglob(".*.tmp"))
        assert not (runs / RUN_ID / "manifest.json").exists()

        # the command as printed, config and all, carries on the run
        rerun = subprocess.run([sys.executable, "-m", "pipeline.cli", *resume[1:]], env=env, text=True,
                               capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    ledger = pd.read_parquet(runs / RUN_ID / "ledger.parquet")
    assert len(ledger) > 0 and ledger["seed_id"].is_unique and set(ledger["state"]) <= TERMINAL
    assert (runs / RUN_ID / "manifest.json").exists()
