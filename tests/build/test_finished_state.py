"""A run is finished exactly when it has a manifest, and the manifest always matches the outputs beside
it: a build killed while it (re)writes them leaves an unfinished run, which the next build resumes."""

from __future__ import annotations

import pytest

from pipeline.build import finalize
from pipeline.config import load_config
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
