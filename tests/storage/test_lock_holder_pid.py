"""A busy lock names its holder's pid only while that process runs: a holder that opened the lock file
read-only writes no pid, so the file may keep an earlier holder's, long gone (review 34)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys

import pytest

from pipeline.storage import exclusive_lock


class Busy(Exception):
    pass


def held_by_another_open(path, pid_text: str):
    path.write_text(pid_text)
    handle = open(path)  # another open file description: its flock blocks ours
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return handle


def gone_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("written, named", [("gone", ""), ("alive", str(os.getpid())), ("", "")])
def test_a_busy_lock_names_only_a_living_holder(tmp_path, written, named):
    pid_text = {"gone": str(gone_pid()), "alive": str(os.getpid()), "": ""}[written]
    lock = tmp_path / ".run.lock"
    holder = held_by_another_open(lock, pid_text)
    try:
        with pytest.raises(Busy) as raised:
            with exclusive_lock(lock, Busy):
                pass
        assert raised.value.args == (named,)
    finally:
        holder.close()
