"""`leakless serve` and Prefect's settings: the server a profile names is served, a fresh folder
gives no warning about Prefect's home, and an extend entry is checked where its runs go."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli.serve import check_entry
from pipeline.schedules import load_serve_config
from tests.support import ROOT

READ_ONLY = Path("/proc/sys")  # root cannot make anything there either


def closed_port_api() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/api"


def serve_in_fresh_folder(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    """`leakless serve` of a one-entry file, in an empty folder, with a fresh home and no Prefect
    variable but `variables`."""
    home, work = tmp_path / "home", tmp_path / "work"
    (home / ".prefect").mkdir(parents=True, exist_ok=True)
    work.mkdir()
    (work / "serve.toml").write_text('[[schedules]]\nname = "nightly"\ninterval_seconds = 60\n')
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("PREFECT_") and key != "LEAKLESS_ARTIFACTS"}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT), **variables)
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "serve", "--config", "serve.toml"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_server_a_profile_names_is_the_one_served(tmp_path):
    url = closed_port_api()
    profiles = tmp_path / "home" / ".prefect" / "profiles.toml"
    profiles.parent.mkdir(parents=True)
    profiles.write_text(f'active = "team"\n[profiles.team]\nPREFECT_API_URL = "{url}"\n')
    served = serve_in_fresh_folder(tmp_path)
    assert served.returncode == 2, served.stderr
    (line,) = served.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot reach the Prefect server at {url}: ")


@pytest.mark.slow
def test_a_fresh_folder_gives_one_line_without_a_prefect_home_warning(tmp_path):
    url = closed_port_api()
    served = serve_in_fresh_folder(tmp_path, PREFECT_API_URL=url)
    assert served.returncode == 2, served.stderr
    (line,) = served.stderr.strip().splitlines()  # Prefect warned when its home's parent was missing
    assert line.startswith(f"error: cannot reach the Prefect server at {url}: ")


@pytest.mark.skipif(not READ_ONLY.is_dir() or os.access(READ_ONLY, os.W_OK),
                    reason=f"{READ_ONLY} is missing or writable here (root in a privileged container "
                           "can write it): the test needs a folder that even root cannot write in")
def test_an_extend_entry_is_checked_in_the_targets_runs_folder(tmp_path, monkeypatch):
    """From a read-only folder the build config's default artifacts/runs cannot be written, but the
    targets' runs_dir, where each run goes, can: the entry is ready."""
    targets = tmp_path / "targets.toml"
    targets.write_text(f"name = 'bench'\nruns_dir = '{tmp_path / 'runs'}'\n"
                       f"releases_dir = '{tmp_path / 'releases'}'\n[targets]\nCybercrime = 3\n")
    schedules = tmp_path / "serve.toml"
    schedules.write_text(f'[[schedules]]\nname = "weekly"\nflow = "extend"\ninterval_seconds = 60\n'
                         f'targets = "{targets}"\n')
    (entry,) = load_serve_config(schedules).schedules
    monkeypatch.chdir(READ_ONLY)
    check_entry(entry)
