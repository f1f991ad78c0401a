"""A `review export` killed outright leaves its staging folder (`review/.batches.p<pid>@<host>.<random>`); the
next export of the run removes it, says so, and leaves a live export's folder alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.storage import exclusive_lock, process_table
from tests.support.review_runs import make_run

ROOT = Path(__file__).parents[2]
KILL_MID_EXPORT = """
import os, signal, sys
from pipeline.review import batches
def die(*args):
    os.kill(os.getpid(), signal.SIGKILL)
batches.review_item = die
batches.export_batches(sys.argv[1], batch_size=2)
"""


def test_the_next_export_removes_the_folder_a_killed_one_left_and_says_so(tmp_path):
    run = make_run(tmp_path, pairs=3)
    killed = subprocess.run([sys.executable, "-c", KILL_MID_EXPORT, str(run)], cwd=ROOT)
    assert killed.returncode == -signal.SIGKILL
    review = run / "review"
    (left,) = review.iterdir()
    pid = killed_pid(left)
    assert left.name.startswith(f".batches.p{pid}@{process_table()}.") and any(left.iterdir())
    live = review / f".batches.p{os.getpid()}@{process_table()}.abcdefgh"  # this process: still running
    old, recent = review / ".batches-41ukyopc", review / ".batches-z38w0z2m"  # named before they carried a pid
    for folder in (live, old, recent):
        folder.mkdir()
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))

    exported = CliRunner().invoke(app, ["review", "export", str(run), "--batch-size", "2"])
    assert exported.exit_code == 0, exported.output
    notes = [line for line in exported.output.splitlines() if line.startswith("note: ")]
    assert sorted(notes) == sorted([
        f"note: removed {left}, the staging folder of an unfinished review export (left by process {pid}, "
        "which is gone)",
        f"note: removed {old}, the staging folder of an unfinished review export (unchanged for 48 h)"])
    assert len(list((review / "batches").iterdir())) == 2
    assert sorted(path.name for path in review.iterdir()) == sorted(["batches", live.name, recent.name])


def killed_pid(folder: Path) -> int:
    return int(folder.name.split(".p", 1)[1].split("@")[0])


def test_a_second_export_of_a_run_is_refused_at_once_while_the_first_runs(tmp_path):
    # both would pass the "already exported" check, do all the work, and the second fail on the rename
    run = make_run(tmp_path, pairs=3)
    with exclusive_lock(run / ".review-export.lock", RuntimeError):  # as a running export holds it
        refused = CliRunner().invoke(app, ["review", "export", str(run), "--batch-size", "2"])
    assert refused.exit_code == 2
    assert refused.output.strip() == f"error: another review export of {run.name} is running (pid {os.getpid()}): " \
                                     "wait for it to end"
    assert not (run / "review").exists()
    exported = CliRunner().invoke(app, ["review", "export", str(run), "--batch-size", "2"])
    assert exported.exit_code == 0, exported.output
    assert len(list((run / "review" / "batches").iterdir())) == 2
