"""A busy lock names its holder's pid while that process runs, whoever owns it (mutation round 7)."""

from __future__ import annotations

import os

from pipeline import storage


def test_a_lock_held_by_another_users_living_process_still_names_its_pid(monkeypatch):
    # os.kill(pid, 0) on another user's process raises PermissionError: it runs (tests may run as root)
    def kill(pid, signal):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "kill", kill)
    assert storage._living("4242") == "4242"
