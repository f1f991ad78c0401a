"""Preflight checks pinned in the quick loop: a fallback model is checked against the endpoint's list
as the model is, and a server whose prompt_tokens do not grow with the image is refused."""

from __future__ import annotations

import pytest

from pipeline.cli.preflight import check_llm_ready, check_reads_images
from pipeline.config import load_config
from pipeline.evaluate.runner import CANNOT_SEE
from tests.cli.test_preflight_models import KEY, url  # noqa: F401  (the module's server fixture)
from tests.evaluate.test_evaluate_preflight import answered_as, api_key, config, server  # noqa: F401


def test_a_fallback_model_the_endpoint_does_not_list_is_refused(url, tmp_path, monkeypatch):  # noqa: F811
    """A typo in fallback_models only showed once the model refused an item, mid-build."""
    monkeypatch.setenv("LEAKLESS_TEST_KEY", KEY)
    settings = load_config(None, ["backends.rewriter='llm'", f"llm.endpoints.default.base_url='{url}'",
                                  "llm.endpoints.default.api_key_env='LEAKLESS_TEST_KEY'",
                                  "llm.roles.leak_rewriter.model='SmolLM2-135M-Instruct-Q4_1'",
                                  "llm.roles.leak_rewriter.fallback_models=['gpt-4o-typo']",
                                  f"llm.cache_path='{tmp_path / 'c.sqlite'}'"])
    with pytest.raises(ValueError, match="not 'gpt-4o-typo', which the leak_rewriter role asks for"):
        check_llm_ready(settings)


def test_a_server_counting_the_same_tokens_with_and_without_the_image_is_refused(server, monkeypatch):  # noqa: F811
    """The image added nothing to the prompt: the model never saw it."""
    def same_count(body, payload):
        payload["usage"]["prompt_tokens"] = 40
    answered_as(monkeypatch, same_count)
    with pytest.raises(ValueError, match="drops messages that carry an image .prompt_tokens 40 with an image, 40"):
        check_reads_images("model 'smol'", config(server.base_url, server.base_url).model("smol"), CANNOT_SEE)


def test_an_unwritable_answer_cache_stops_only_a_build_that_asks_an_llm(tmp_path):
    """A build of templates and rules never opens the answer cache: its path does not matter."""
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    cache = f"llm.cache_path='{in_the_way / 'llm.sqlite'}'"
    check_llm_ready(load_config(None, [cache]))
    with pytest.raises(ValueError, match="the LLM answer cache .* cannot be written: .* is not a folder"):
        check_llm_ready(load_config(None, [cache, "backends.rewriter='llm'"]))
