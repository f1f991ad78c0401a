"""The run lock is let go the moment its block ends in an error (not when the error is forgotten: a
caller holding the exception, or a long-lived process, would keep the run busy); and around a flow
only a machine error (a full or read-only disk) is the user's one line, exit 2: any other OSError is
a bug of ours, raised with its traceback."""

from __future__ import annotations

import errno
import fcntl

import pytest
import typer

from pipeline import run_lock
from pipeline.cli.errors import environment_errors
from pipeline.rundir import RunDir


def test_the_lock_is_free_as_soon_as_a_failing_block_ends(tmp_path):
    run = RunDir(tmp_path / "runs", "r1")
    with pytest.raises(ValueError) as raised:
        with run_lock.held(run):
            raise ValueError("a stage broke")
    with open(run.path / ".lock") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free, while the error is still held
    assert raised.value.args == ("a stage broke",)
    with run_lock.held(run):  # and the next build of the run takes it
        pass


def test_a_machine_error_is_one_line_and_exit_2(capsys):
    with pytest.raises(typer.Exit) as stop:
        with environment_errors():
            raise OSError(errno.ENOSPC, "No space left on device")
    assert stop.value.exit_code == 2
    assert capsys.readouterr().err == "error: [Errno 28] No space left on device\n"


def test_any_other_os_error_is_raised_as_itself(capsys):
    with pytest.raises(FileNotFoundError):
        with environment_errors():
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", "batches/0/drafts.json")
    assert capsys.readouterr().err == ""
