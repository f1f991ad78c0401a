"""`~` at the start of a path setting is the home folder, as it is in PREFECT_HOME: taken literally,
it made a folder named `~` in the working directory (which a later `rm -rf ~` cleans up badly)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipeline.config import BuildConfig, ConfigError, load_config
from tests.support import ROOT


def test_every_path_key_of_a_config_starts_in_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "pool").mkdir()
    (tmp_path / "elements.jsonl").write_text("")
    config = BuildConfig.model_validate({
        "run": {"runs_dir": "~/runs", "elements_file": "~/elements.jsonl"},
        "elements": {"store": "~/elements"},
        "images": {"pool": {"folder": "~/pool"}},
        "llm": {"cache_path": "~/llm.sqlite"}})
    assert config.run.runs_dir == tmp_path / "runs"
    assert config.run.elements_file == tmp_path / "elements.jsonl"
    assert config.elements.store == tmp_path / "elements"
    assert config.images.pool.folder == tmp_path / "pool"
    assert config.llm.cache_path == tmp_path / "llm.sqlite"


def test_leakless_artifacts_and_prefects_home_start_in_the_home_folder(tmp_path):
    show = "import os; from pipeline.env import artifacts_dir; print(artifacts_dir(), os.environ['PREFECT_HOME'])"
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_HOME"}
    shown = subprocess.run([sys.executable, "-c", show], cwd=tmp_path, capture_output=True, text=True, check=True,
                           env={**env, "HOME": str(tmp_path), "LEAKLESS_ARTIFACTS": "~/art", "PYTHONPATH": str(ROOT)})
    assert shown.stdout.split() == [str(tmp_path / "art"), str(tmp_path / "art" / "prefect")]
    assert not (tmp_path / "~").exists()


def test_a_home_of_no_user_is_one_line_not_a_traceback(tmp_path):
    # `~data/pool` for `~/data/pool`: Python's expanduser raises RuntimeError, which no handler took
    bad = "~no-such-user-here/runs"
    with pytest.raises(ConfigError, match=f"run.runs_dir: {bad}: ~no-such-user-here is no user's home folder"):
        load_config(None, [f"run.runs_dir='{bad}'"])
    env = {key: value for key, value in os.environ.items() if key not in ("PREFECT_HOME", "PREFECT_API_URL")}
    built = subprocess.run([sys.executable, "-m", "pipeline.cli", "build", "--size", "1"], cwd=tmp_path,
                           capture_output=True, text=True, env={**env, "LEAKLESS_ARTIFACTS": "~no-such-user-here/a",
                                                                "PYTHONPATH": str(ROOT)})
    assert built.returncode == 2
    assert built.stderr.strip().splitlines() == [
        "error: ~no-such-user-here/a: ~no-such-user-here is no user's home folder (your own is ~/)"]
