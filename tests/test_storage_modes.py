"""What we publish gets the modes a plain open() or mkdir would give it, not mkstemp's private 0600:
a release, a run or an audit on a shared machine must be readable by the colleagues the umask allows."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from tests.support import ROOT

WRITE = """
import sys
from pathlib import Path
from pipeline.storage import atomic_write_text, staging_dir
folder = Path(sys.argv[1])
atomic_write_text(folder / "out.json", "{}")
staging_dir(folder, prefix=".release.").rename(folder / "release")
"""


def modes_under(umask: int, tmp_path) -> tuple[int, int]:
    subprocess.run([sys.executable, "-c", WRITE, str(tmp_path)], cwd=ROOT, check=True,
                   preexec_fn=lambda: os.umask(umask))
    return (stat.S_IMODE((tmp_path / "out.json").stat().st_mode),
            stat.S_IMODE((tmp_path / "release").stat().st_mode))


def test_published_files_and_folders_follow_the_umask(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "private").mkdir()
    assert modes_under(0o022, tmp_path / "shared") == (0o644, 0o755)
    assert modes_under(0o077, tmp_path / "private") == (0o600, 0o700)


def test_a_command_that_runs_no_flow_leaves_no_artifacts_folder_behind(tmp_path):
    """`audit` or `verify` run in a folder of one's own used to make artifacts/prefect there."""
    env = {key: value for key, value in os.environ.items() if key not in ("LEAKLESS_ARTIFACTS", "PREFECT_HOME")}
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "verify", str(tmp_path / "no-release")],
                          cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_staging_folder_of_a_sibling_container_is_not_taken_for_abandoned(tmp_path):
    """Containers on the host's network share its name, not its pids: a staging folder named by host
    alone was removed by a sibling that found no such pid among its own processes."""
    import subprocess

    from pipeline.staging import owned_staging, remove_abandoned_staging
    from pipeline.storage import host_name, process_table

    ours = owned_staging(tmp_path, "out")
    assert ours.name.startswith(f".out.p{os.getpid()}@{process_table()}.")
    gone = subprocess.Popen(["true"])
    gone.wait()
    sibling = tmp_path / f".out.p{gone.pid}@{host_name()}~1.abcdefgh"  # a pid of another process table
    killed_here = tmp_path / f".out.p{gone.pid}@{process_table()}.abcdefgh"
    sibling.mkdir()
    killed_here.mkdir()
    assert remove_abandoned_staging(tmp_path, "out", "export") == [
        f"removed {killed_here}, the staging folder of an unfinished export (left by process {gone.pid}, which is gone)"]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([ours.name, sibling.name])
