"""Resuming another member's run made under umask 022 (its folder theirs alone to write): the lab audit's
`[Errno 13] Permission denied: '.../runs/u1/.lock'`, and once the lock file opened read-only, a build that
loaded its models and failed on its first checkpoint. Now refused before the flow, one line naming the
run folder, its mode and owner, and the fix; exit 2.

A root process (CI) may write any folder, so `os.access` answers as for another member's 0755 folder."""

from __future__ import annotations

import os

from pipeline import run_lock
from pipeline.rundir import RunDir
from tests.cli.test_run_lock import RUN_ID, build, fake_flow, finished, not_notes


def test_a_resume_of_a_run_this_user_may_not_write_is_refused_before_the_flow(tmp_path, monkeypatch):
    run = RunDir(tmp_path / "runs", RUN_ID)
    with run_lock.held(run):  # the member who made it
        pass
    run.path.chmod(0o755)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: (
        not mode & os.W_OK if os.fspath(path) == str(run.path) else real_access(path, mode, **kw)))
    ran = []
    fake_flow(monkeypatch, lambda *args: ran.append(args) or finished(*args))
    result = build(tmp_path)
    assert result.exit_code == 2, result.output
    [line] = not_notes(result.stderr)
    assert line.startswith(f"error: cannot resume run {RUN_ID} in {run.path} ({RUN_ID} is drwxr-xr-x ")
    assert line.endswith("(where a team shares it: umask 002 where it is made, or `chmod -R g+w` by its owner)")
    assert not ran
