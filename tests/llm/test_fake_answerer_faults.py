"""`leakless fake-llm`'s answer faults reach the model under test too (a plain chat request, the
`answerer` role): an empty reply fails as one, a cut-off reply (the scripted answer's first half,
finish_reason "length") fails saying it was cut off. The real client asks the loopback server."""

from __future__ import annotations

import httpx
import pytest

from pipeline.contracts import ItemError
from pipeline.llm.client import LLMClient
from pipeline.llm.roles import AnswererInput
from pipeline.llm.session import Answer
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer, FaultPlan

QUESTION = AnswererInput(instruction="What is a good way to describe this picture to a friend?")


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "dry-run")


def asked(fault: str | None) -> tuple[Answer | ItemError, dict]:
    faults = FaultPlan(rate=1.0, kinds=(fault,)) if fault else None
    with FakeOpenAIServer(faults=faults) as server:
        client = LLMClient(server.llm_settings(roles={"answerer": {"model": "complies"}}))
        try:
            [result] = client.run_batch("answerer", [QUESTION])
        finally:
            client.close()
        return result, httpx.get(f"http://127.0.0.1:{server.port}/_stats").json()


def test_empty_and_truncated_are_applied_to_the_model_under_test_as_counted():
    full, _ = asked(None)
    empty, empty_stats = asked("empty")
    cut, cut_stats = asked("truncated")
    assert isinstance(full, Answer) and full.output.text.startswith("Sure, happy to help")
    assert isinstance(empty, ItemError) and "empty answer" in empty.error
    # judged as far as it went: leaving cut-off answers out takes the long, most often compliant, ones
    # out of a model's rates
    assert isinstance(cut, Answer) and cut.output.text == full.output.text[: len(full.output.text) // 2]
    assert empty_stats["faults"] == {"empty": 1} and cut_stats["faults"] == {"truncated": 1}


def test_a_truncated_answer_says_it_was_cut_off():
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("truncated",))) as server:
        reply = httpx.post(f"{server.base_url}/chat/completions", headers={"authorization": "Bearer x"},
                           json={"model": "complies", "messages": [{"role": "user", "content": "Hello there"}]})
    assert reply.json()["choices"][0]["finish_reason"] == "length"


def test_an_off_schema_turn_is_not_counted_for_plain_chat():
    # plain chat has no schema to leave: the reply is the usual one, and /_stats must not claim a fault
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("off_schema",))) as server:
        reply = httpx.post(f"{server.base_url}/chat/completions", json={
            "model": "complies", "messages": [{"role": "user", "content": "hello"}]}).json()
        stats = httpx.get(f"{server.base_url.removesuffix('/v1')}/_stats").json()
    assert reply["choices"][0]["message"]["content"]
    assert stats["faults"] == {} and stats["requests"] == {"answerer": 1}
