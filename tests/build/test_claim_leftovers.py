"""Claiming a run folder sweeps the temporary files a killed build left, and only those: one a live
process is still writing is kept (an audit saw claim delete it, and the writer's rename then failed
with a traceback), as is one from another host, whose processes cannot be checked from here."""

from __future__ import annotations

import os
import subprocess
import sys

from pipeline.config import load_config
from pipeline.rundir import RunDir
from pipeline.storage import _temporary_prefix


def temporary_of(pid: int, target) -> str:
    """The temporary name process `pid` of this host would write `target` under."""
    return _temporary_prefix(target).replace(f".p{os.getpid()}@", f".p{pid}@") + "abcdefgh.tmp"


def test_claim_removes_a_killed_writers_leftover_and_keeps_a_live_writers(tmp_path):
    config = load_config(None, ["run.size=1", f"run.runs_dir='{tmp_path}'"])
    run = RunDir(tmp_path, "finished")
    run.claim(config)
    data = run.path / "data"
    data.mkdir()
    target = data / "train-00000-of-00001.parquet"

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    killed = data / temporary_of(int(gone.stdout), target)
    elsewhere = data / f".{target.name}.p{int(gone.stdout)}@otherhost.abcdefgh.tmp"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        writing = data / temporary_of(live.pid, target)
        for path in (killed, elsewhere, writing):
            path.write_text("half")
        run.claim(config)
        assert writing.exists(), "a live writer's file was removed"
    finally:
        live.kill()
        live.wait()
    assert not killed.exists() and elsewhere.exists()
