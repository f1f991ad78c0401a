"""`resumable`: Ctrl-C is exit 130 and SIGTERM exit 143 (what a shell reports for each, so a cron job or
systemd tells a stop from a failure), one line naming the command that resumes, and the SIGTERM
handler there before is put back. The build's own subprocess tests of this are `slow`."""

from __future__ import annotations

import os
import signal

import pytest
import typer

from pipeline.cli.errors import Terminated, resumable

RERUN = "leakless build --run-id r1"


def stopped(capsys, stop) -> tuple[int, str]:
    with pytest.raises(typer.Exit) as leaving:
        with resumable(RERUN):
            stop()
    return leaving.value.exit_code, capsys.readouterr().err


def test_sigterm_is_exit_143_with_the_command_that_resumes(capsys):
    assert stopped(capsys, lambda: os.kill(os.getpid(), signal.SIGTERM)) == (
        143, f"terminated; rerun with `{RERUN}` to resume\n")


def test_ctrl_c_is_exit_130_with_the_command_that_resumes(capsys):
    def ctrl_c():
        raise KeyboardInterrupt

    assert stopped(capsys, ctrl_c) == (130, f"interrupted; rerun with `{RERUN}` to resume\n")


def test_the_previous_sigterm_handler_is_back_afterwards(capsys):
    def previous(signum, frame):
        pass

    before = signal.signal(signal.SIGTERM, previous)
    try:
        def terminated():
            raise Terminated()

        assert stopped(capsys, terminated)[0] == 143
        assert signal.getsignal(signal.SIGTERM) is previous
        with resumable(RERUN):
            pass
        assert signal.getsignal(signal.SIGTERM) is previous
    finally:
        signal.signal(signal.SIGTERM, before)
