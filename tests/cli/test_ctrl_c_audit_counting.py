"""Ctrl-C (or SIGTERM) on `audit` while it opens the file says one line, as it does once scoring: opening
reads a JSON lines or CSV file through once (its rows, for the bar, and its columns), seconds for a
large file with nothing on the screen yet, and a signal there exited 130 (or -15) saying nothing.

As in `test_ctrl_c_audit_verify_evaluate`, the command runs in its own session, with that first pass
replaced by one that never ends and first touches a marker file; the test waits for the file, then signals."""

from __future__ import annotations

import signal

import pytest

from tests.cli.test_ctrl_c_audit_verify_evaluate import stopped_once_working
from tests.cli.test_ctrl_c_nothing_written import SCENE, assert_one_line, leftovers

# `leakless ARGS` with the first pass over a .jsonl file (`records._jsonl`) never ending.
COUNTING_FOREVER = """
import os, sys, time
from pathlib import Path
import pipeline.io.records as records

def counting_forever(path):
    Path(os.environ["SCORING_STARTED"]).touch()
    while True:
        time.sleep(0.05)  # the pass over a large file the signal stops

records._jsonl = counting_forever
sys.argv[0] = "leakless"
from pipeline.cli import main
main()
"""


@pytest.mark.slow
@pytest.mark.parametrize("signum, said, code", [(signal.SIGINT, "interrupted", 130),
                                                (signal.SIGTERM, "terminated", 143)])
def test_a_signal_while_audit_reads_the_file_through_says_nothing_was_written(tmp_path, signum, said, code):
    source = tmp_path / "bench.jsonl"
    source.write_text('{"id": "q1", "query": "How do I hide this handgun?", "image_description": "%s"}\n' % SCENE)
    out, rejects = tmp_path / "audit.parquet", tmp_path / "audit.rejects.jsonl"
    got, err = stopped_once_working(tmp_path, COUNTING_FOREVER, "audit", str(source), "--out", str(out),
                                    "--rejects", str(rejects), signum=signum)
    assert got == code, err
    assert_one_line(err, f"{said}; nothing written to {out} or {rejects}")
    assert leftovers(tmp_path, source) == []
