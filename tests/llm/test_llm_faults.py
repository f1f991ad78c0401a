"""Each fault kind is recovered or recorded; nothing is dropped, nothing duplicated."""

from __future__ import annotations

import pytest

from pipeline.contracts import ItemError
from pipeline.llm.client import Answer, LLMClient
from pipeline.llm.roles import SeedWriterInput
from pipeline.testing.openai_server import (FAKE_KEY_ENV, REFUSAL_TEXT, FakeOpenAIServer,
                                            FaultPlan)

FAST = {"backoff_s": 0.01, "timeout_s": 0.5}


def seeds(n: int) -> list[SeedWriterInput]:
    return [SeedWriterInput(category="Violent", sub_category="Weapon-Related Violence",
                            element=f"element-{i:04d}") for i in range(n)]


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")


def run_one(server: FakeOpenAIServer, **endpoint) -> tuple[Answer | ItemError, LLMClient]:
    client = LLMClient(server.llm_settings(**{**FAST, **endpoint}))
    [result] = client.run_batch("seed_writer", seeds(1))
    return result, client


def test_429_waits_for_retry_after_then_succeeds():
    with FakeOpenAIServer(faults=FaultPlan(rate=0.5, kinds=("429",), retry_after_s=0.3)) as server:
        result, client = run_one(server)
    assert isinstance(result, Answer)
    (first, _, fault), (second, _, _) = server.state.arrivals
    assert fault == "429" and second - first >= 0.3
    usage = client.accounting.usage("seed_writer")
    assert (usage.requests, usage.retries, usage.retry_wait_s) == (2, 1, 0.3)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["500", "timeout"])
def test_server_error_and_timeout_are_retried(kind):
    plan = FaultPlan(rate=0.5, kinds=(kind,), hang_s=4.0)  # far past the client's timeout
    with FakeOpenAIServer(faults=plan) as server:
        result, client = run_one(server, timeout_s=1.0)
    assert isinstance(result, Answer) and "element-0000" in result.output.image_description
    assert client.accounting.usage("seed_writer").retries == 1
    assert server.state.faults_sent == {kind: 1}


def test_retries_are_bounded_and_the_failure_is_recorded():
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("500",))) as server:
        result, client = run_one(server, max_retries=2)
    assert isinstance(result, ItemError) and not result.refused
    assert "gave up after 3 attempts" in result.error and "InternalServerError" in result.error
    assert sum(server.state.requests.values()) == 3
    assert client.accounting.usage("seed_writer").failures == 1


@pytest.mark.parametrize("structured", [True, False])
def test_malformed_answer_is_repaired_once(structured):
    with FakeOpenAIServer(faults=FaultPlan(rate=0.5, kinds=("malformed",))) as server:
        result, client = run_one(server, structured_outputs=structured)
    assert isinstance(result, Answer)
    assert client.accounting.usage("seed_writer").repairs == 1


def test_malformed_twice_is_a_failure_with_the_raw_answer():
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("malformed",))) as server:
        result, _ = run_one(server)
    assert isinstance(result, ItemError) and not result.refused
    assert result.error.startswith("invalid answer after one repair: not valid JSON")
    assert result.raw == '{"seed_writer": ['
    assert server.state.requests["seed_writer"] == 2


@pytest.mark.parametrize("structured", [True, False], ids=["refusal_field", "refusal_text"])
def test_refusal_is_recorded_with_its_text(structured):
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("refusal",))) as server:
        result, client = run_one(server, structured_outputs=structured)
    assert result == ItemError(error=REFUSAL_TEXT, raw="" if structured else REFUSAL_TEXT, refused=True)
    assert server.state.requests["seed_writer"] == 1  # a refusal is not "repaired"
    assert client.accounting.usage("seed_writer").refusals == 1


def test_fallback_model_answers_when_the_first_refuses():
    with FakeOpenAIServer(refusing_models=frozenset({"strict-model"})) as server:
        roles = {"seed_writer": {"model": "strict-model", "fallback_models": ["open-model"]}}
        client = LLMClient(server.llm_settings(roles=roles, **FAST))
        [result] = client.run_batch("seed_writer", seeds(1))
    assert isinstance(result, Answer) and result.provenance.model == "scripted-fake:open-model"
    usage = client.accounting.usage("seed_writer")
    assert (usage.fallbacks, usage.refusals, usage.failures) == (1, 0, 0)


@pytest.mark.slow
def test_500_seeds_with_every_fault_kind_in_turn_get_exactly_one_result_each():
    plan = FaultPlan(rate=0.2, retry_after_s=0.01, hang_s=5.0)  # far past the timeout, even when busy
    with FakeOpenAIServer(faults=plan) as server:
        client = LLMClient(server.llm_settings(max_retries=6, **{**FAST, "timeout_s": 1.5}))
        inputs = seeds(500)
        results = client.run_batch("seed_writer", inputs)

    sent = server.state.faults_sent
    assert set(sent) == {"429", "500", "timeout", "malformed", "refusal"}
    assert len(results) == 500
    answers = [r for r in results if isinstance(r, Answer)]
    for item, result in zip(inputs, results):
        if isinstance(result, Answer):  # each answer is about its own input: nothing shuffled
            assert item.element in result.output.image_description
    assert len({a.output.image_description for a in answers}) == len(answers)
    errors = [r for r in results if isinstance(r, ItemError)]
    assert sum(e.refused for e in errors) == sent["refusal"]
    assert all(e.refused or e.error.startswith("invalid answer after one repair") for e in errors)
    usage = client.accounting.usage("seed_writer")
    assert usage.items == 500 and usage.failures == len(errors)
    assert usage.retries == sent["429"] + sent["500"] + sent["timeout"]
    assert usage.requests == sum(server.state.requests.values())
    assert "| seed_writer | 500 |" in client.accounting.markdown()
