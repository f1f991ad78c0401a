"""The settings a config gives reach the stages `make_pipeline` builds, and the stages' cache
(one set per process and config) never hands a run the stages built for another config."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipeline.config import load_config
from pipeline.factory import build_stages, config_key, make_pipeline


@pytest.fixture(autouse=True)
def no_models(monkeypatch):
    """Stand-ins for the detector and the embedder: what is checked is where the settings go."""
    import pipeline.backends.minilm

    detector = SimpleNamespace(threshold=0.5, backend="detector", model="stand-in", version="0")
    monkeypatch.setattr("pipeline.factory.default_detector", lambda: detector)
    monkeypatch.setattr(pipeline.backends.minilm, "default_embedder", lambda: object())


def stages_of(tmp_path, *overrides: str) -> dict:
    config = load_config(None, [f"run.runs_dir='{tmp_path}'", *overrides])
    return build_stages(config_key(config), tmp_path / "run")


def test_the_rewrite_loop_asks_the_same_leak_filter_at_the_configured_threshold(tmp_path):
    stages = stages_of(tmp_path, "leak_filter.threshold=0.71", "rewrite.max_attempts=2",
                       "harm_check.min_intent_similarity=0.33")
    assert stages["leak_filter"].threshold == 0.71
    assert stages["rewrite"].leak_filter is stages["leak_filter"]
    assert stages["rewrite"].max_attempts == 2
    assert stages["harm_check"].min_intent_similarity == 0.33


def test_configs_that_differ_in_one_setting_get_their_own_stages(tmp_path):
    low = stages_of(tmp_path, "leak_filter.threshold=0.41")
    high = stages_of(tmp_path, "leak_filter.threshold=0.62")
    assert (low["leak_filter"].threshold, high["leak_filter"].threshold) == (0.41, 0.62)


def test_diffusers_images_are_saved_every_batch_of_every_device(tmp_path):
    config = load_config(None, [f"run.runs_dir='{tmp_path}'", "backends.images='diffusers'",
                                "images.diffusers.devices=['cpu', 'cpu']", "images.diffusers.allow_cpu=true",
                                "images.diffusers.batch_size=3"])
    [images] = [stage for stage in make_pipeline(config, tmp_path / "run") if stage.name == "images"]
    assert images.save_every == 6
