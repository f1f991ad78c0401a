"""mut8: torch's cache moves under LEAKLESS_ARTIFACTS only where that folder can be made: a folder this
user may not write (a read-only artifacts disk) or a file in the way leaves torch its own, else torch
fails at import."""

from __future__ import annotations

import os

import pytest

from pipeline import env as leakless_env

VARIABLE = "TORCHINDUCTOR_CACHE_DIR"


@pytest.fixture
def environment(monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)
    return monkeypatch


def test_a_folder_this_user_may_only_read_leaves_torch_its_own(environment, tmp_path):
    environment.setenv("LEAKLESS_ARTIFACTS", str(tmp_path / "art"))
    # a 0555 folder, as a non-root user sees it (root may write anywhere, so the test asks os.access)
    environment.setattr(leakless_env.os, "access", lambda path, mode: not mode & (os.W_OK | os.X_OK) or
                        not str(path).startswith(str(tmp_path)))
    leakless_env.torch_cache_under_artifacts()
    assert VARIABLE not in os.environ


def test_an_executable_file_in_the_way_leaves_torch_its_own(environment, tmp_path):
    (tmp_path / "a-script").write_text("#!/bin/sh\n")
    (tmp_path / "a-script").chmod(0o755)
    environment.setenv("LEAKLESS_ARTIFACTS", str(tmp_path / "a-script" / "art"))
    leakless_env.torch_cache_under_artifacts()
    assert VARIABLE not in os.environ
