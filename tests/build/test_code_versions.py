"""A run resumed after a `git pull` has batches made by two commits: its manifest and every release of it
name both, not the last alone."""

from __future__ import annotations

import json

import pytest

from pipeline import rundir
from pipeline.build import code_fields
from pipeline.config import load_config
from pipeline.release.provenance import rebuild_recipes, run_build
from pipeline.rundir import RunDir

OLD = {"commit": "a" * 40, "uncommitted_changes": False}
NEW = {"commit": "b" * 40, "uncommitted_changes": True}


@pytest.fixture
def claim_with(monkeypatch, tmp_path):
    run, config = RunDir(tmp_path, "r1"), load_config(None, [f"run.runs_dir='{tmp_path}'"])

    def claim(code):
        monkeypatch.setattr(rundir, "code_version", lambda: code)
        run.claim(config)
        return run
    return claim


def test_each_commit_that_claims_the_run_is_recorded_once_in_order(claim_with):
    claim_with(OLD)
    claim_with(OLD)  # a resume on the same commit adds nothing
    run = claim_with(NEW)
    assert run.recorded_code() == [OLD, NEW]
    assert code_fields(run) == {"code": NEW, "earlier_code": [OLD]}


def test_a_run_built_by_one_commit_has_no_earlier_code(claim_with):
    run = claim_with(OLD)
    claim_with(OLD)
    assert code_fields(run) == {"code": OLD}


def test_a_run_from_no_checkout_then_a_checkout_names_both(claim_with):
    claim_with(None)
    assert code_fields(claim_with(NEW)) == {"code": NEW, "earlier_code": [None]}


def test_the_release_carries_the_earlier_commits_and_its_card_names_them(claim_with):
    run = claim_with(OLD)
    run = claim_with(NEW)
    (run.path / "manifest.json").write_text(json.dumps({"run_id": "r1", "packages": {}, **code_fields(run)}))
    build = run_build(run.path)
    assert build["code"] == NEW and build["earlier_code"] == [OLD]
    recipe, = rebuild_recipes({"runs": [{"run_id": "r1", "build": build}]})
    assert recipe.endswith("and leakless commit `bbbbbbbbbbbb` with uncommitted changes (the run was resumed across "
                           "commits: some of its batches were made by `aaaaaaaaaaaa`, and may differ from what this "
                           "commit makes)")


def test_a_release_of_a_run_built_by_one_commit_records_no_earlier_code(claim_with):
    run = claim_with(OLD)
    (run.path / "manifest.json").write_text(json.dumps({"run_id": "r1", "packages": {}, **code_fields(run)}))
    assert "earlier_code" not in run_build(run.path)
    recipe, = rebuild_recipes({"runs": [{"run_id": "r1", "build": run_build(run.path)}]})
    assert recipe.endswith("and leakless commit `aaaaaaaaaaaa`")
