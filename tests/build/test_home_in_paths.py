"""`~` at the start of a path setting is the home folder, as it is in PREFECT_HOME: taken literally,
it made a folder named `~` in the working directory (which a later `rm -rf ~` cleans up badly)."""

from __future__ import annotations

import os
import subprocess
import sys

from pipeline.config import BuildConfig
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
