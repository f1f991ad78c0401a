"""Resuming a run: a changed setting of what it makes is refused and named; how it runs may change."""

from __future__ import annotations

import pytest

from pipeline.config import ConfigError, load_config
from pipeline.rundir import RunDir


def test_a_resume_may_change_how_the_run_is_carried_out(tmp_path):
    run = RunDir(tmp_path, "r1")
    run.claim(load_config(None, ["images.diffusers.batch_size=4", "runner.max_workers=4"]))
    # after running out of GPU memory: a smaller image batch, offloading, fewer workers, a slower server
    run.claim(load_config(None, ["images.diffusers.batch_size=1", "images.diffusers.cpu_offload=true",
                                 "runner.max_workers=1", "llm.endpoints.default.timeout_s=600"]))


def test_a_resume_that_would_change_what_the_run_makes_is_refused_with_the_setting_named(tmp_path):
    run = RunDir(tmp_path, "r1")
    run.claim(load_config(None, []))
    with pytest.raises(ConfigError, match="images.diffusers.devices"):  # with dtype auto, the device sets it
        run.claim(load_config(None, ["images.diffusers.devices=['cpu']", "images.diffusers.allow_cpu=true"]))
    with pytest.raises(ConfigError) as refused:
        run.claim(load_config(None, ["images.diffusers.steps=4", "leak_filter.threshold=0.4"]))
    message = str(refused.value)
    assert message.startswith("run r1 exists with a different config (")
    assert "images.diffusers.steps: 28 -> 4" in message and "leak_filter.threshold: unset (the default) -> 0.4" in message


def test_a_stage_computed_again_discards_the_batch_s_later_checkpoints(tmp_path):
    """A run folder from before a stage existed held later checkpoints made without it: resumed,
    the new stage ran and its output was thrown away by loading them."""
    from pipeline.batch import make_batches
    from pipeline.build import run_stage
    from pipeline.factory import STAGE_ORDER, config_key
    from pipeline.plan import plan_seeds

    config = load_config(None, ["run.size=1", "run.sub_categories=['Cybercrime']", f"run.runs_dir='{tmp_path}'"])
    run = RunDir(tmp_path, "r1")
    run.claim(config)
    [batch] = make_batches(plan_seeds(config), config.run.batch_size)
    key = config_key(config)
    for stage in STAGE_ORDER[:3]:
        batch = run_stage(stage, batch, key, run)
    later = run.checkpoint(STAGE_ORDER[2], batch.id)
    assert later.exists()
    run.checkpoint(STAGE_ORDER[1], batch.id).unlink()  # as if that stage had not existed
    run_stage(STAGE_ORDER[1], run.load(STAGE_ORDER[0], batch.id), key, run)
    assert run.checkpoint(STAGE_ORDER[1], batch.id).exists() and not later.exists()
