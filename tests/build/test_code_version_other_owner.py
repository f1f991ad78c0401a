"""A build by a lab member other than the checkout's owner recorded no commit (`code.json`: [null]): git
refuses a repository another user owns ("detected dubious ownership"), and the release card then had no
commit for the run (lab audit #8).

`GIT_TEST_ASSUME_DIFFERENT_OWNER` is git's own switch for that check (git >= 2.35.2): it makes any user,
root included, another owner, with no second Unix user."""

from __future__ import annotations

import subprocess

import pytest

from pipeline.run_records import code_version
from tests.support import ROOT


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="runs from a git checkout")
def test_a_checkout_another_user_owns_still_records_its_commit(monkeypatch):
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    refused = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert refused.returncode != 0 and "dubious ownership" in refused.stderr  # the refusal the switch makes
    assert code_version()["commit"] == head
