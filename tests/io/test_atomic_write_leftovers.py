"""`atomic_path`: a folder in the target's place is refused before any work, and a temporary file
left by a killed writer is removed by a later write, while a live writer's is kept."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

from pipeline.storage import _temporary_prefix, atomic_path, atomic_write_text


def test_a_folder_in_the_targets_place_is_refused_before_the_work(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(IsADirectoryError, match=r"out: is a folder; a file is written there$"):
        with atomic_path(tmp_path / "out"):
            pytest.fail("the work ran")
    assert [path.name for path in tmp_path.iterdir()] == ["out"]


def test_a_write_removes_what_a_killed_writer_left_and_keeps_a_live_writers(tmp_path):
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import os, signal
        from pipeline.storage import atomic_path
        with atomic_path({str(tmp_path / "out.parquet")!r}) as temporary:
            temporary.write_text("half")
            os.kill(os.getpid(), signal.SIGKILL)
        """)], cwd=os.getcwd())
    assert killed.returncode == -9
    [left] = tmp_path.glob(".out.parquet.*.tmp")
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live_name = _temporary_prefix(tmp_path / "out.parquet").replace(f"p{os.getpid()}@", f"p{live.pid}@")
        writing = tmp_path / f"{live_name}abcdefgh.tmp"
        elsewhere = tmp_path / f".out.parquet.p{killed_pid(left)}@otherhost.abcdefgh.tmp"
        writing.write_text("being written")
        elsewhere.write_text("another host's")
        atomic_write_text(tmp_path / "out.parquet", "whole")
    finally:
        live.kill()
        live.wait()
    assert (tmp_path / "out.parquet").read_text() == "whole"
    assert not left.exists() and writing.exists() and elsewhere.exists()


def killed_pid(path) -> str:
    return re.search(r"\.p(\d+)@", path.name).group(1)
