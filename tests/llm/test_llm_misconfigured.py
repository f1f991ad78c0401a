"""What a user's config gets wrong, and what a real llama.cpp server showed: a wrong key or URL is
not retried, but a rerun must ask again once it is fixed; requests that waited out a format refusal
are not refused again; a placeholder key does not mangle error messages."""

from __future__ import annotations

import logging

from pipeline.contracts import ItemError
from pipeline.llm.client import LLMClient
from pipeline.llm.session import Answer
from pipeline.llm.roles import SeedWriterInput
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer

FAST = {"backoff_s": 0.01, "timeout_s": 5.0}


def seeds(n: int) -> list[SeedWriterInput]:
    return [SeedWriterInput(category="Violent", sub_category="Weapon-Related Violence",
                            element=f"element-{i:04d}") for i in range(n)]


def test_a_wrong_key_fails_at_once_and_is_asked_again_once_fixed(monkeypatch):
    """It was a non-transient failure, so rerunning the run after fixing the key kept every seed failed."""
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-wrong-key")
    with FakeOpenAIServer(api_key="sk-right-key") as server:
        settings = server.llm_settings(**FAST)
        [refused] = LLMClient(settings).run_batch("seed_writer", seeds(1))
        assert isinstance(refused, ItemError) and refused.error == "HTTP 401: Invalid API key"
        assert refused.transient  # the build redoes the stage on a rerun of the same run id
        monkeypatch.setenv(FAKE_KEY_ENV, "sk-right-key")
        fixed = LLMClient(settings)
        [answered] = fixed.run_batch("seed_writer", seeds(1))
    assert isinstance(answered, Answer)
    assert fixed.accounting.usage("seed_writer").requests == 1


def test_a_wrong_url_path_fails_at_once_as_transient(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test-key")
    with FakeOpenAIServer() as server:
        client = LLMClient(server.llm_settings(base_url=server.base_url.removesuffix("/v1"), **FAST))
        [lost] = client.run_batch("seed_writer", seeds(1))
    assert isinstance(lost, ItemError) and lost.error.startswith("HTTP 404") and lost.transient
    assert client.accounting.usage("seed_writer").requests == 1  # not retried


def test_requests_waiting_for_a_slot_go_out_in_the_format_the_server_moved_to(monkeypatch):
    """Only the requests in flight when llama.cpp refuses json_schema are refused (docs/llm.md); those
    that waited for a slot were prepared as json_schema and were refused too."""
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test-key")
    with FakeOpenAIServer(latency_s=0.05, rejects_json_schema=True) as server:
        client = LLMClient(server.llm_settings(max_in_flight=2, **FAST))
        results = client.run_batch("seed_writer", seeds(8))
    assert all(isinstance(result, Answer) for result in results)
    refused = client.accounting.usage("seed_writer").requests - sum(server.state.requests.values())
    assert 1 <= refused <= 2


def test_a_placeholder_key_is_not_scrubbed_out_of_ordinary_words(monkeypatch, caplog):
    """With the key `x`, llama.cpp's refusal was logged as "Input should be 'te***t'"."""
    monkeypatch.setenv(FAKE_KEY_ENV, "x")
    caplog.set_level(logging.WARNING, logger="pipeline.llm")
    with FakeOpenAIServer(rejects_json_schema=True) as server:
        [answered] = LLMClient(server.llm_settings(**FAST)).run_batch("seed_writer", seeds(1))
    assert isinstance(answered, Answer)
    assert "Input should be 'text' or 'json_object'" in caplog.text and "***" not in caplog.text
