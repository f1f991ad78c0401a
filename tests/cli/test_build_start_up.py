"""Before its bars, `leakless build` loads its models and waits for Prefect's server and flow: about 20 s
(more on a busy machine) that showed nothing at all after the notes. At a terminal a spinner now names
the step under way with its time (`progress.StartUp`), on stderr; it clears itself once the bars start,
and a log, a pipe or CI gets nothing from it.

The quick tests drive `StartUp` through Rich's own switch for a terminal (TTY_COMPATIBLE); the slow one
runs the real command under a pseudo-terminal and presses Ctrl-C once the first bar is drawn."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

from pipeline.progress import StageProgress, StartUp


def said(capsys, monkeypatch, terminal: bool, enabled: bool = True) -> str:
    """stderr of a start-up naming two steps."""
    if terminal:
        monkeypatch.setenv("TTY_COMPATIBLE", "1")  # Rich's own switch: a terminal it may draw on
    else:
        monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    with StartUp("build", enabled) as starting:
        starting("loading the models")
        starting("starting the flow")
    out, err = capsys.readouterr()
    assert out == ""  # stdout holds results only
    return err


def test_the_start_up_is_shown_at_a_terminal_only(capsys, monkeypatch):
    assert said(capsys, monkeypatch, terminal=False) == ""  # a log gets no spinner, nor a line
    assert said(capsys, monkeypatch, terminal=True, enabled=False) == ""  # --no-progress
    drawn = said(capsys, monkeypatch, terminal=True)
    assert "build: starting the flow" in drawn  # the step under way when it ended
    assert drawn.endswith("\x1b[2K")  # and cleared (line erased), not left on the screen


def test_the_first_bars_end_the_start_up(monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    with StartUp("build") as starting:
        starting("starting the flow")
        assert starting.progress.live.is_started
        with StageProgress(("drafts",), 3):
            assert not starting.progress.live.is_started  # one live display at a time: they would overwrite each other
        starting("finalizing")  # said after it ended: nothing to draw on, and no error


def on_a_terminal(command: list[str], env: dict[str, str], until: bytes, deadline_s: float = 300) -> tuple[bytes, int]:
    """(what `command` wrote to its terminal, its exit code) when run under a pseudo-terminal of 120
    columns, in its own session, given SIGINT (a terminal's Ctrl-C) once `until` is on the screen."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(command, env=env, stdin=follower, stdout=follower, stderr=follower,
                               start_new_session=True)
    os.close(follower)
    screen, interrupted, deadline = b"", False, time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if not interrupted and until in screen:
            os.killpg(process.pid, signal.SIGINT)
            interrupted = True
        if not select.select([leader], [], [], 1)[0]:
            continue
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the command has exited and closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    else:
        process.kill()
    os.close(leader)
    return screen, process.wait(timeout=60)


@pytest.mark.slow
def test_a_build_at_a_terminal_names_its_start_up_steps_until_the_bars(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("PREFECT_API_URL", "TTY_COMPATIBLE")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), TERM="xterm-256color", COLUMNS="120")
    command = [sys.executable, "-m", "pipeline.cli", "build", "--size", "1", "--run-id", "spinner",
               "--set", f'run.runs_dir="{tmp_path / "runs"}"']
    screen, code = on_a_terminal(command, env, until=b"drafts")
    text = screen.decode("utf-8", "replace")
    assert code == 130, text
    loading = text.find("build: loading the models")
    assert loading != -1, text
    assert loading < text.find("drafts"), text  # said before the bars, while there was nothing else
    assert "interrupted; rerun with" in text.splitlines()[-1], text  # Ctrl-C's line, after it is cleared
