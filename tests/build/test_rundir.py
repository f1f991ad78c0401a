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
    with pytest.raises(ConfigError) as refused:
        run.claim(load_config(None, ["images.diffusers.steps=4", "leak_filter.threshold=0.4"]))
    message = str(refused.value)
    assert message.startswith("run r1 exists with a different config (")
    assert "images.diffusers.steps: 28 -> 4" in message and "leak_filter.threshold: None -> 0.4" in message
