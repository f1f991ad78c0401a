"""The server set-up scripts that `make test` runs fail with one clear line, never a skip."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def tools_except(tmp_path: Path, *missing: str) -> str:
    """A PATH holding the tools the scripts use, minus `missing`."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in ("dirname", "cat", "nproc", "python3", "cmake", "c++", "g++", "sha256sum"):
        found = shutil.which(tool)
        if found and tool not in missing:
            (folder / tool).symlink_to(found)
    return str(folder)


def run(script: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("bash"), str(ROOT / "scripts" / script)], capture_output=True, text=True,
                          env={"HOME": os.environ.get("HOME", "/tmp"), **env}, timeout=120)


@pytest.mark.parametrize("missing, message", [
    (("cmake",), "cmake not found"),
    (("c++", "g++"), "no C++ compiler found"),
])
def test_llm_server_setup_without_a_build_tool_fails_in_one_line(tmp_path, missing, message):
    result = run("setup_llm_server.sh", tmp_path, PATH=tools_except(tmp_path, *missing),
                 LEAKLESS_LLM_VENV=str(tmp_path / "venv"))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: setup_llm_server: ")
    assert message in result.stderr and not (tmp_path / "venv").exists()


@pytest.mark.parametrize("script, venv_env", [("setup_llm_server.sh", "LEAKLESS_LLM_VENV"),
                                              ("setup_labelstudio.sh", "LEAKLESS_LABELSTUDIO_VENV")])
def test_a_failed_install_fails_in_one_line(tmp_path, script, venv_env):
    result = run(script, tmp_path, PATH=tools_except(tmp_path), PYTHON="false",
                 **{venv_env: str(tmp_path / "venv")})
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "could not create" in result.stderr and "with false" in result.stderr
