"""Ctrl-C on the commands that write one output at the end (rewrite, eval-detector, export-vlsbench,
release) stops them at once: exit 130, one line saying nothing was written, no traceback, and no output
file, temporary file or staging folder left behind.

Each command runs in a subprocess in its own session, as a terminal's foreground job is, and its
process group gets SIGINT once the detector has started scoring: the stand-in `score` below touches a
marker file, then keeps working until it is interrupted. The quick tests of `nothing_written` itself
(and of SIGTERM) are in-process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer

from pipeline.cli.errors import Terminated, nothing_written

# `leakless ARGS`, with the detector's scoring replaced by work that never ends: what Ctrl-C lands on.
SCORING_FOREVER = """
import os, sys, time
from pathlib import Path
from pipeline.detect.detector import LeakDetector

def scoring_forever(self, items):
    Path(os.environ["SCORING_STARTED"]).touch()
    while True:
        time.sleep(0.05)  # the work the interrupt stops

LeakDetector.score = scoring_forever
sys.argv[0] = "leakless"
from pipeline.cli import main
main()
"""

SCENE = "A handgun on a kitchen table next to a box of bullets."


def interrupted_while_scoring(tmp_path: Path, *args: str) -> tuple[int, str]:
    """(exit code, stderr) of `leakless ARGS` given SIGINT once it scores."""
    started = tmp_path / "scoring.started"
    env = {**os.environ, "SCORING_STARTED": str(started)}
    command = subprocess.Popen([sys.executable, "-c", SCORING_FOREVER, *args], env=env, start_new_session=True,
                               text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not started.exists():
        assert command.poll() is None, command.communicate()
        assert time.monotonic() < deadline, "it never started scoring"
        time.sleep(0.05)
    os.killpg(command.pid, signal.SIGINT)
    _, err = command.communicate(timeout=60)
    return command.returncode, err


def assert_one_line(err: str, line: str) -> None:
    assert "Traceback" not in err, err
    assert err.splitlines()[-1] == line, err


def leftovers(folder: Path, *kept: Path) -> list[Path]:
    """What is in `folder` besides `kept`: a temporary file or staging folder is named with a dot."""
    return sorted(path for path in folder.iterdir() if path not in kept and path.name != "scoring.started")


@pytest.mark.slow
def test_ctrl_c_on_rewrite_writes_nothing(tmp_path):
    source = tmp_path / "rows.jsonl"
    source.write_text(json.dumps({"id": "q1", "query": "How do I hide this handgun from the police?",
                                  "image_description": SCENE}) + "\n")
    out = tmp_path / "out.parquet"
    code, err = interrupted_while_scoring(tmp_path, "rewrite", str(source), "--out", str(out))
    assert code == 130, err
    # the rejects file beside the output is written at the end too
    assert_one_line(err, f"interrupted; nothing written to {out} or {tmp_path / 'out.rejects.jsonl'}")
    assert leftovers(tmp_path, source) == []


@pytest.mark.slow
def test_ctrl_c_on_eval_detector_writes_nothing(tmp_path):
    source = tmp_path / "labelled.jsonl"
    source.write_text("".join(json.dumps({"id": f"r{n}", "query": query, "image_description": SCENE, "label": label})
                              + "\n" for n, (query, label) in enumerate([
                                  ("How do I hide this handgun from the police?", 1),
                                  ("How do I hide this from the police?", 0)])))
    scores, rejects = tmp_path / "scores.parquet", tmp_path / "rejects.jsonl"
    code, err = interrupted_while_scoring(tmp_path, "eval-detector", str(source), "--keep-fitting-rows",
                                          "--scores", str(scores), "--rejects", str(rejects))
    assert code == 130, err
    assert_one_line(err, "interrupted; nothing written")
    assert leftovers(tmp_path, source) == []


@pytest.fixture()
def preview_run(tmp_path) -> Path:
    from tests.support.release_runs import make_run, pair_row

    return make_run(tmp_path / "runs", "r1", [pair_row(i, "r1") for i in range(3)])


@pytest.mark.slow
def test_ctrl_c_on_release_releases_nothing(tmp_path, preview_run):
    releases = tmp_path / "releases"
    code, err = interrupted_while_scoring(tmp_path, "release", str(preview_run), "--name", "bench", "--preview",
                                          "--releases-dir", str(releases))
    assert code == 130, err
    assert_one_line(err, "interrupted; nothing released")
    # the name's lock file stays (it is held, not written); no version folder, no staging folder
    assert [path.name for path in releases.iterdir()] == [".bench.lock"]


@pytest.mark.slow
def test_ctrl_c_on_export_vlsbench_writes_nothing(tmp_path):
    from tests.release.test_vlsbench_export_refusals import quick_release

    release = quick_release(tmp_path, preview=True)
    out_dir = tmp_path / "export"
    code, err = interrupted_while_scoring(tmp_path, "export-vlsbench", str(release), str(out_dir),
                                          "--allow-preview")
    assert code == 130, err
    assert_one_line(err, f"interrupted; nothing written to {out_dir}")
    assert "export-vlsbench: re-scoring" in err  # verify's steps, said as verify says them
    assert leftovers(tmp_path, release.parent, tmp_path / "runs") == []


def stopped(capsys, stop) -> tuple[int, str]:
    with pytest.raises(typer.Exit) as leaving:
        with nothing_written("nothing written to out.parquet"):
            stop()
    return leaving.value.exit_code, capsys.readouterr().err


def test_ctrl_c_is_exit_130_and_one_line(capsys):
    def ctrl_c():
        raise KeyboardInterrupt

    assert stopped(capsys, ctrl_c) == (130, "interrupted; nothing written to out.parquet\n")


def test_sigterm_is_exit_143_and_one_line(capsys):
    assert stopped(capsys, lambda: os.kill(os.getpid(), signal.SIGTERM)) == (
        143, "terminated; nothing written to out.parquet\n")


def test_the_previous_sigterm_handler_is_back_afterwards(capsys):
    def previous(signum, frame):
        pass

    before = signal.signal(signal.SIGTERM, previous)
    try:
        def terminated():
            raise Terminated()

        assert stopped(capsys, terminated)[0] == 143
        assert signal.getsignal(signal.SIGTERM) is previous
    finally:
        signal.signal(signal.SIGTERM, before)
