"""Resuming a run made before a config key existed: the key at its default is no change."""

from __future__ import annotations

import json

import pytest

from pipeline.config import ConfigError, load_config
from pipeline.rundir import RunDir


def made_before(run: RunDir, *path: str) -> None:
    """Make the run's stored config look written by a leakless that lacked the key or section at `path`."""
    marker = run.path / "config.json"
    stored = json.loads(marker.read_text(encoding="utf-8"))
    parent = stored
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    marker.write_text(json.dumps(stored), encoding="utf-8")


@pytest.mark.parametrize(("missing", "setting"), [
    (("harm_check",), "harm_check.min_intent_similarity=0.5"),  # a whole new section
    (("images", "max_refine_rounds"), "images.max_refine_rounds=5"),  # a new key in a section
], ids=["section", "key"])
def test_a_key_newer_than_the_run_resumes_at_its_default_and_is_named_set_otherwise(tmp_path, missing, setting):
    run = RunDir(tmp_path, "old1")
    run.claim(load_config(None, []))
    made_before(run, *missing)
    run.claim(load_config(None, []))
    key, value = setting.split("=")
    with pytest.raises(ConfigError, match=rf"{key}: unset \(the default\) -> {value}"):
        run.claim(load_config(None, [setting]))
