"""The build's preflight checks every LLM role the build will call: with image-first pool seeds the
LLM seed writer also calls image_query_writer, whose own endpoint's key must be set; and the offline
seed query cores must cover run.queries_per_seed exactly (one short fails a query of every seed)."""

from __future__ import annotations

import pytest

from pipeline.cli.prompt_checks import check_seed_cores
from pipeline.cli.preflight import check_llm_ready
from pipeline.config import ConfigError, load_config

UNSET_KEY = "LEAKLESS_TEST_IMAGE_QUERY_KEY"


def test_image_first_seeds_need_the_image_query_writers_key(tmp_path, monkeypatch):
    (tmp_path / "pool").mkdir()
    config = tmp_path / "build.toml"
    config.write_text(f"""
[backends]
seed_writer = "llm"
images = "pool"
[images.pool]
folder = "{tmp_path / 'pool'}"
image_first = true
[llm]
cache = false
[llm.endpoints.default]
base_url = "http://127.0.0.1:9/v1"
api_key_env = "LEAKLESS_TEST_SEED_KEY"
[llm.endpoints.captions]
base_url = "http://127.0.0.1:9/v1"
api_key_env = "{UNSET_KEY}"
[llm.roles.image_query_writer]
endpoint = "captions"
""")
    monkeypatch.setenv("LEAKLESS_TEST_SEED_KEY", "k")
    monkeypatch.delenv(UNSET_KEY, raising=False)
    with pytest.raises(ValueError, match=f"{UNSET_KEY} is not set .*used by the image_query_writer role"):
        check_llm_ready(load_config(config, []))


def test_the_seed_cores_must_reach_queries_per_seed_not_one_short(tmp_path):
    def settings(queries: int):
        return load_config(None, ["run.size=1", f"run.runs_dir='{tmp_path / 'runs'}'",
                                  f"run.queries_per_seed={queries}"])

    assert check_seed_cores(settings(3)) == []  # the offline cores allow 3 with every sub-category
    with pytest.raises(ConfigError, match="run.queries_per_seed = 4, but .* has 3 distinct"):
        check_seed_cores(settings(4))
