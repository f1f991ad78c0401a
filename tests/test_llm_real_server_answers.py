"""What a real small model behind llama.cpp's server does, reproduced by the scripted server:
the `json_schema` response_format refused with HTTP 500 (the client falls back once per server),
empty answers, off-schema JSON and JSON cut off at max_tokens (each a failure with its reason)."""

from __future__ import annotations

import logging

import pytest

from pipeline.backends.base import ItemError
from pipeline.llm.client import Answer, LLMClient
from pipeline.llm.roles import SeedWriterInput
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer, FaultPlan

FAST = {"backoff_s": 0.01, "timeout_s": 2.0}


def seeds(n: int) -> list[SeedWriterInput]:
    return [SeedWriterInput(category="Violent", sub_category="Weapon-Related Violence",
                            element=f"element-{i:04d}") for i in range(n)]


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")


def test_a_json_schema_rejection_moves_the_server_to_json_object_once(caplog):
    caplog.set_level(logging.WARNING, logger="pipeline.llm")
    with FakeOpenAIServer(rejects_json_schema=True) as server:
        client = LLMClient(server.llm_settings(**FAST))
        [first] = client.run_batch("seed_writer", seeds(1))
        assert isinstance(first, Answer) and "element-0000" in first.output.image_description
        assert client.accounting.usage("seed_writer").requests == 2  # refused, then json_object
        later = client.run_batch("seed_writer", seeds(8))
        assert all(isinstance(result, Answer) for result in later)
        assert client.accounting.usage("seed_writer").requests == 2 + 8  # no more refusals
        other_role = client.run_batch("vsil_judge", [])
        assert other_role == []
    assert client.accounting.usage("seed_writer").retries == 0  # a refusal is not retried as a 5xx
    moves = [r for r in caplog.records if "rejected response_format json_schema" in r.getMessage()]
    assert len(moves) == 1 and "using json_object" in moves[0].getMessage()


def test_without_the_flag_the_server_takes_json_schema():
    with FakeOpenAIServer() as server:
        client = LLMClient(server.llm_settings(**FAST))
        assert all(isinstance(r, Answer) for r in client.run_batch("seed_writer", seeds(3)))
        assert client.accounting.usage("seed_writer").requests == 3


@pytest.mark.parametrize("kind, reason", [
    ("empty", "invalid answer after one repair: the answer is empty"),
    ("off_schema", "invalid answer after one repair: does not match the schema"),
    ("truncated", "the answer was cut off at max_tokens=1024 (not valid JSON"),
])
def test_each_bad_answer_ends_as_a_failure_with_its_reason(kind, reason):
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=(kind,)), rejects_json_schema=True) as server:
        client = LLMClient(server.llm_settings(**FAST))
        [result] = client.run_batch("seed_writer", seeds(1))
    assert isinstance(result, ItemError) and not result.refused
    assert result.error.startswith(reason), result.error
    usage = client.accounting.usage("seed_writer")
    assert usage.failures == 1 and usage.items == 1
    # truncation is not repaired (it would be cut off again); the others get one repair round
    assert usage.repairs == (0 if kind == "truncated" else 1)


def test_a_truncated_answer_is_kept_raw_for_the_record():
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("truncated",))) as server:
        client = LLMClient(server.llm_settings(**FAST))
        [result] = client.run_batch("seed_writer", seeds(1))
    assert isinstance(result, ItemError) and result.raw.startswith('{"image_description"')


def test_cache_failures_keeps_the_models_own_bad_answers_so_a_rerun_sends_nothing(tmp_path):
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("truncated",))) as server:
        settings = server.llm_settings(cache_path=tmp_path / "llm.sqlite", **FAST)
        first = LLMClient.from_settings(settings.model_copy(update={"cache_failures": True}))
        [failed] = first.run_batch("seed_writer", seeds(1))
        first.close()
        sent = sum(server.state.requests.values())
        again = LLMClient.from_settings(settings.model_copy(update={"cache_failures": True}))
        [cached] = again.run_batch("seed_writer", seeds(1))
        again.close()
        assert sum(server.state.requests.values()) == sent and cached == failed
        assert again.accounting.usage("seed_writer").failures == 1
        default = LLMClient.from_settings(settings)  # without the setting a failure is asked again
        default.run_batch("seed_writer", seeds(1))
        assert sum(server.state.requests.values()) == sent + 1
