"""An `export-vlsbench` killed outright leaves its staging folder (`.<out>.p<pid>@<host>.<random>` beside the
output folder, a full copy of the images); the next export to that folder removes it and says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from pipeline.backends.minilm import default_embedder
from pipeline.cli import app
from pipeline.release.make import make_release
from pipeline.storage import process_table
from tests.support.release_runs import accepted_run

ROOT = Path(__file__).parents[2]
KILL_MID_EXPORT = """
import os, signal, sys
from pipeline.release import vlsbench
write_image = vlsbench.write_image
def write_then_die(*args):
    write_image(*args)
    os.kill(os.getpid(), signal.SIGKILL)
vlsbench.write_image = write_then_die
vlsbench.export_vlsbench(sys.argv[1], sys.argv[2])
"""


def test_the_next_export_removes_the_folder_a_killed_one_left_and_says_so(tmp_path):
    release = make_release([accepted_run(tmp_path / "runs", "r1", 2)], name="bench", releases_dir=tmp_path / "rel",
                           embedder=default_embedder())
    parent = tmp_path / "vx"
    killed = subprocess.run([sys.executable, "-c", KILL_MID_EXPORT, str(release), str(parent / "vout")], cwd=ROOT)
    assert killed.returncode == -signal.SIGKILL
    (left,) = parent.iterdir()
    pid = int(left.name.split(".p", 1)[1].split("@")[0])
    assert left.name.startswith(f".vout.p{pid}@{process_table()}.") and any((left / "imgs").iterdir())
    live = parent / f".vout.p{os.getpid()}@{process_table()}.abcdefgh"  # this process: still running
    other = parent / f".vout2.p{pid}@{process_table()}.abcdefgh"  # another output folder's: not this export's to judge
    for folder in (live, other):
        folder.mkdir()

    result = CliRunner().invoke(app, ["export-vlsbench", str(release), str(parent / "vout")])
    assert result.exit_code == 0, result.output
    *steps, note = result.stderr.splitlines()  # verify's step lines first
    assert all(step.startswith("export-vlsbench: ") for step in steps)
    assert note == (f"note: removed {left}, the staging folder of an unfinished export (left by process "
                    f"{pid}, which is gone)")
    assert sorted(path.name for path in parent.iterdir()) == sorted(["vout", live.name, other.name])
    assert sorted(path.name for path in (parent / "vout" / "imgs").iterdir()) == ["1.png", "2.png"]
