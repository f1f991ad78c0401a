"""What the answer cache serves, pinned in the quick loop (tests/llm/test_llm_cache.py is all `slow`):
the server is part of the key, a model's failure is kept only where asking again repeats it
(temperature 0), and a dry run's answers are not served while the endpoint's server does not reply."""

from __future__ import annotations

from pipeline.contracts import ItemError
from pipeline.llm.cache import request_key
from pipeline.llm.client import LLMClient
from pipeline.llm.roles import SeedWriterInput
from pipeline.llm.session import Answer
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer, FaultPlan

import pytest

SEED = [SeedWriterInput(category="Violent", sub_category="Weapon-Related Violence", element="bolt cutters")]
FAST = {"backoff_s": 0.01, "timeout_s": 5.0}


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")


def ask_once(settings) -> tuple[Answer | ItemError, LLMClient]:
    client = LLMClient.from_settings(settings)
    try:
        [result] = client.run_batch("seed_writer", SEED)
    finally:
        client.close()
    return result, client


def test_the_cache_key_names_the_server():
    request = {"model": "smol", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.0}
    assert request_key("http://a:1/v1", "h", request) != request_key("http://b:1/v1", "h", request)
    assert request_key("http://a:1/v1/", "h", request) == request_key("http://a:1/v1", "h", request)


def test_an_answer_one_server_gave_is_not_served_for_another_under_the_same_model_name(tmp_path):
    cache = tmp_path / "llm.sqlite"
    with FakeOpenAIServer() as first, FakeOpenAIServer() as second:
        ask_once(first.llm_settings(cache_path=cache, **FAST))
        result, _ = ask_once(second.llm_settings(cache_path=cache, **FAST))
    assert isinstance(result, Answer) and not result.cached
    assert second.state.requests["seed_writer"] == 1


@pytest.mark.parametrize("temperature, asked_again", [(0.0, 0), (0.7, 1)])
def test_a_refusal_is_kept_with_cache_failures_only_at_temperature_0(tmp_path, temperature, asked_again):
    roles = {"seed_writer": {"temperature": temperature}}
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("refusal",))) as server:
        settings = server.llm_settings(cache_path=tmp_path / "llm.sqlite", roles=roles, **FAST)
        settings = settings.model_copy(update={"cache_failures": True})
        first, _ = ask_once(settings)
        sent = server.state.requests["seed_writer"]
        second, _ = ask_once(settings)
    assert isinstance(first, ItemError) and first.refused and isinstance(second, ItemError)
    assert server.state.requests["seed_writer"] - sent == asked_again


def test_a_dry_runs_cached_answer_is_not_served_while_the_endpoint_does_not_reply(tmp_path):
    cache = tmp_path / "llm.sqlite"
    with FakeOpenAIServer() as server:
        settings = server.llm_settings(cache_path=cache, max_retries=0, **FAST)
        dry_run, _ = ask_once(settings)
    assert isinstance(dry_run, Answer) and dry_run.provenance.model.startswith("scripted-fake:")
    result, _ = ask_once(settings)  # the server is gone: the request is sent, and fails
    assert isinstance(result, ItemError) and result.transient
