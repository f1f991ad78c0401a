"""torch's compiler cache folder (`/tmp/torchinductor_<user>`, made when a model loads) was the one thing a
build wrote outside LEAKLESS_ARTIFACTS: with it set, the folder is `<artifacts>/torchinductor`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipeline import env as leakless_env

VARIABLE = "TORCHINDUCTOR_CACHE_DIR"


@pytest.fixture
def environment(monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)
    return monkeypatch


def test_leakless_artifacts_takes_torchs_cache(environment, tmp_path):
    environment.setenv("LEAKLESS_ARTIFACTS", str(tmp_path / "art"))
    leakless_env.torch_cache_under_artifacts()
    assert os.environ[VARIABLE] == str(tmp_path / "art" / "torchinductor")


def test_the_users_own_setting_wins(environment, tmp_path):
    environment.setenv("LEAKLESS_ARTIFACTS", str(tmp_path / "art"))
    environment.setenv(VARIABLE, str(tmp_path / "mine"))
    leakless_env.torch_cache_under_artifacts()
    assert os.environ[VARIABLE] == str(tmp_path / "mine")


def test_without_leakless_artifacts_torch_keeps_its_own(environment):
    """Else `./artifacts` would appear wherever `audit` runs, and torch could not load in a read-only folder."""
    environment.delenv("LEAKLESS_ARTIFACTS", raising=False)
    leakless_env.torch_cache_under_artifacts()
    assert VARIABLE not in os.environ


# Only where that folder can be made: a folder this user may not write (a read-only artifacts disk) or a file
# in the way leaves torch its own cache, else torch fails at import.
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


def test_artifacts_that_cannot_be_made_leave_torch_its_own(environment, tmp_path):
    """torch would fail at import: the command says what is wrong with the folder itself."""
    (tmp_path / "a-file").write_text("")
    environment.setenv("LEAKLESS_ARTIFACTS", str(tmp_path / "a-file" / "art"))
    leakless_env.torch_cache_under_artifacts()
    assert VARIABLE not in os.environ


@pytest.mark.slow  # imports torch's compiler in a subprocess
def test_loading_torchs_compiler_writes_nothing_in_tmp(tmp_path):
    temporary, artifacts = tmp_path / "tmp", tmp_path / "art"
    temporary.mkdir()
    env = {key: value for key, value in os.environ.items() if key != VARIABLE}
    env.update(TMPDIR=str(temporary), LEAKLESS_ARTIFACTS=str(artifacts))
    subprocess.run([sys.executable, "-c", "import pipeline, torch._dynamo"], env=env, check=True, timeout=300)
    assert list(temporary.iterdir()) == []
    assert (artifacts / "torchinductor").is_dir()
