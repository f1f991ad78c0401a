"""A build SIGKILLed mid-run resumes under the same run id and ends with the rows of an uninterrupted build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from tests.support import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from kill_and_resume import build_command, rows  # noqa: E402

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds


def test_sigkill_after_first_checkpoint_then_resume(tmp_path):
    size = 4
    subprocess.run(build_command("reference", tmp_path, size), cwd=ROOT, check=True, capture_output=True)

    command = build_command("killed", tmp_path, size)
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    batches = tmp_path / "killed" / "batches"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(batches.rglob("*.json")):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = {path: path.stat().st_mtime_ns for path in batches.rglob("*.json")}
    assert done_before, "the build was killed before it checkpointed anything"
    assert not (tmp_path / "killed" / "manifest.json").exists()

    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    pd.testing.assert_frame_equal(rows(tmp_path / "killed"), rows(tmp_path / "reference"))
    # finished batches were loaded, not recomputed
    assert all(path.stat().st_mtime_ns == stamp for path, stamp in done_before.items())
    assert not list((tmp_path / "killed").rglob(".*.tmp"))


def test_rerunning_a_finished_run_exits_0_with_a_clean_log(tmp_path):
    """A cron job that reruns a run id to make sure it finished must not read a failure. Nothing waited for
    the model warm-up when every batch was checkpointed, and exiting inside its native loading code aborted
    the process (exit 134, most of the time); Prefect's server printed tracebacks after the summary."""
    command = build_command("finished", tmp_path, 1)
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    records = [tmp_path / "finished" / name for name in ("manifest.json", "summary.md")]
    written = [(path.read_bytes(), path.stat().st_mtime_ns) for path in records]
    for _ in range(3):
        rerun = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert "Traceback" not in rerun.stderr and "terminate called" not in rerun.stderr, rerun.stderr[-2000:]
        assert "run folder:" in rerun.stdout
        # nothing to do: the manifest keeps the commit that made the pairs, the summary its timings
        assert "note: run finished is finished and has no seed to try again: nothing rebuilt" in rerun.stderr
        assert [(path.read_bytes(), path.stat().st_mtime_ns) for path in records] == written
