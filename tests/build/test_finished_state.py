"""A run is finished exactly when it has a manifest, and the manifest always matches the outputs beside
it: a build killed while it (re)writes them leaves an unfinished run, which the next build resumes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipeline.build import finalize, finished_result
from pipeline.config import ConfigError, load_config
from pipeline.rundir import RunDir


class Killed(Exception):
    pass


def kill(*_args, **_kwargs):
    raise Killed


@pytest.fixture
def finished_run(tmp_path):
    config = load_config(None, [f"run.runs_dir='{tmp_path}'"])
    run = RunDir(tmp_path, "r1")
    run.claim(config)
    finalize([], config, run, 0.0)
    assert run.manifest.is_file() and list((run.path / "data").glob("train-*.parquet"))
    return config, run


@pytest.mark.parametrize("writer", [
    "pipeline.build.write_frame",  # the ledger and audit tables
    "pipeline.writers.shards.pq.write_table",  # after the old shards are deleted
    "pipeline.build.atomic_write_text",  # the summary
])
def test_a_finished_run_killed_while_rewriting_its_outputs_is_no_longer_finished(
        finished_run, monkeypatch, writer):
    config, run = finished_run
    with monkeypatch.context() as patched:
        patched.setattr(writer, kill)
        with pytest.raises(Killed):
            finalize([], config, run, 0.0)
    assert not run.manifest.exists()

    finalize([], config, run, 0.0)  # the rerun
    assert run.manifest.is_file() and list((run.path / "data").glob("train-*.parquet"))


def test_a_new_run_killed_before_its_last_output_has_no_manifest(tmp_path, monkeypatch):
    config = load_config(None, [f"run.runs_dir='{tmp_path}'"])
    run = RunDir(tmp_path, "r1")
    run.claim(config)
    monkeypatch.setattr("pipeline.build.atomic_write_text", kill)
    with pytest.raises(Killed):
        finalize([], config, run, 0.0)
    assert not run.manifest.exists()


def test_a_finished_run_with_nothing_to_try_again_is_read_not_rebuilt(finished_run):
    """A rerun rewrote the manifest with that day's commit: the next release credited its pairs to code
    that never made them."""
    config, run = finished_run
    result = finished_result(run, config, [])
    assert result["run_id"] == "r1" and result["retriable_failed"] == 0 and result["seeds"] == 0
    assert result["summary"] == (run.path / "summary.md").read_text()
    with pytest.raises(ConfigError, match="exists with a different config"):  # finished or not
        finished_result(run, load_config(None, [f"run.runs_dir='{run.path.parent}'", "run.size=9"]), [])

    pd.DataFrame({"seed_id": ["s1"], "state": ["accepted"]}).to_parquet(run.path / "ledger.parquet")
    pd.DataFrame({"seed_id": ["s1"], "transient": [True]}).to_parquet(run.path / "failures.parquet")
    # one of its items lost to a server error, the seed kept by another: a rerun tries the item again
    assert finished_result(run, config, []) is None
    (run.path / "failures.parquet").write_bytes(b"damaged")
    assert finished_result(run, config, []) is None  # built again, which writes it anew
    pd.DataFrame({"seed_id": ["s1"], "transient": [False]}).to_parquet(run.path / "failures.parquet")
    assert finished_result(run, config, []) is not None

    run.pool_seeds_record.write_text(json.dumps({"seed-of-a-png": "a.png"}))
    assert finished_result(run, config, []) is None  # the pool changed: its batches are made again
    run.pool_seeds_record.unlink()
    run.prompts_record.unlink()  # a run made before runs recorded their prompt files: the resume records them
    assert finished_result(run, config, []) is None
    run.manifest.unlink()
    assert finished_result(run, config, []) is None
