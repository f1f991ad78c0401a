"""Each fault kind is recovered or recorded; nothing is dropped, nothing duplicated. Among them,
what a real small model behind llama.cpp's server does: the `json_schema` response_format refused
with HTTP 500 (the client falls back once per server), empty answers, off-schema JSON and JSON cut
off at max_tokens (each a failure with its reason)."""

from __future__ import annotations

import io
import logging

import pytest
from PIL import Image

from pipeline.contracts import ItemError
from pipeline.llm.client import LLMClient
from pipeline.llm.session import Answer
from pipeline.llm.roles import HarmFilterInput, ImageRefinerInput, SeedWriterInput
from pipeline.testing.openai_server import FAKE_KEY_ENV, REFUSAL_TEXT, FakeOpenAIServer, FaultPlan
from pipeline.testing.openai_server_state import FAULT_KINDS

FAST = {"backoff_s": 0.01, "timeout_s": 0.5}
# Where a timeout would hide what is tested: on a busy CI machine a malformed answer once
# took over 0.5 s to come back, was retried as a timeout, and the repair it tests never ran.
SLOWER = {**FAST, "timeout_s": 5.0}


def seeds(n: int) -> list[SeedWriterInput]:
    return [SeedWriterInput(category="Violent", sub_category="Weapon-Related Violence",
                            element=f"element-{i:04d}") for i in range(n)]


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")


def run_one(server: FakeOpenAIServer, **endpoint) -> tuple[Answer | ItemError, LLMClient]:
    client = LLMClient(server.llm_settings(**{**SLOWER, **endpoint}))
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
    assert "gave up after 3 attempts: HTTP 500" in result.error
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
        client = LLMClient(server.llm_settings(roles=roles, **SLOWER))
        [result] = client.run_batch("seed_writer", seeds(1))
    assert isinstance(result, Answer) and result.provenance.model == "scripted-fake:open-model"
    usage = client.accounting.usage("seed_writer")
    assert (usage.fallbacks, usage.refusals, usage.failures) == (1, 0, 0)


@pytest.mark.slow
def test_500_seeds_with_every_fault_kind_in_turn_get_exactly_one_result_each():
    # the timeout far past a busy machine's slowest answer (at 1.5 s, two cores shared with a refit
    # timed out 13 answers that were no fault), the hang far past the timeout
    plan = FaultPlan(rate=0.2, retry_after_s=0.01, hang_s=12.0)
    with FakeOpenAIServer(faults=plan) as server:
        client = LLMClient(server.llm_settings(max_retries=6, **{**FAST, "timeout_s": 5.0}))
        inputs = seeds(500)
        results = client.run_batch("seed_writer", inputs)

    sent = server.state.faults_sent
    assert set(sent) == set(FAULT_KINDS)
    assert len(results) == 500
    answers = [r for r in results if isinstance(r, Answer)]
    for item, result in zip(inputs, results):
        if isinstance(result, Answer):  # each answer is about its own input: nothing shuffled
            assert item.element in result.output.image_description
    assert len({a.output.image_description for a in answers}) == len(answers)
    errors = [r for r in results if isinstance(r, ItemError)]
    assert sum(e.refused for e in errors) == sent["refusal"]
    assert all(e.refused or e.error.startswith(("invalid answer after one repair",
                                                 "the answer was cut off at max_tokens"))
               for e in errors)
    assert sum(e.error.startswith("the answer was cut off") for e in errors) == sent["truncated"]
    usage = client.accounting.usage("seed_writer")
    assert usage.items == 500 and usage.failures == len(errors)
    # every request sent is an item's first, a retry or a repair, and each failure is retried once:
    # the injected 429s and 500s, the injected hangs, and any sound answer a loaded machine slowed
    # past the 5 s timeout (once in 500 in CI at 07f5784+), which the client counts as a timeout too
    assert usage.requests == 500 + usage.retries + usage.repairs
    assert usage.timeouts >= sent["timeout"]
    # the server counts a request once it has read it: one whose client gave up before then (a
    # loaded machine, 11 of 598 once) is the client's alone, so the server saw no more than was sent
    answered_faults = sent["429"] + sent["500"] + sent["timeout"]
    seen = sum(server.state.requests.values())
    assert answered_faults + 500 + usage.repairs <= seen <= usage.requests
    # any other retry is of a request the server never read: a connection a loaded machine reset
    # before the server took it (4 of 592 once in CI at 64c9aeb); a request retried twice it did read
    unexplained = usage.retries - (sent["429"] + sent["500"] + usage.timeouts)
    assert 0 <= unexplained <= usage.requests - seen
    assert "| seed_writer | 500 |" in client.accounting.markdown()


def test_a_json_schema_rejection_moves_the_server_to_json_object_once(caplog):
    caplog.set_level(logging.WARNING, logger="pipeline.llm")
    with FakeOpenAIServer(rejects_json_schema=True) as server:
        client = LLMClient(server.llm_settings(**SLOWER))
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


def test_a_server_refusing_a_format_is_said_once_however_many_clients_learn_it(caplog):
    """`evaluate` makes a client per model: the warning repeated for each model on one server."""
    caplog.set_level(logging.WARNING, logger="pipeline.llm")
    with FakeOpenAIServer(rejects_json_schema=True) as server:
        for _ in range(3):
            client = LLMClient(server.llm_settings(**SLOWER))
            assert all(isinstance(r, Answer) for r in client.run_batch("seed_writer", seeds(1)))
            assert client.accounting.usage("seed_writer").requests == 2  # each client learns it itself
            client.close()
    moves = [r for r in caplog.records if "rejected response_format json_schema" in r.getMessage()]
    assert len(moves) == 1


def test_a_new_client_answers_from_the_cache_without_asking_in_the_refused_format_again(tmp_path, caplog):
    """Each process starts a server at json_schema again; the answers it cached under json_object are
    found without sending a request for the server to refuse (a rerun sends no request)."""
    with FakeOpenAIServer(rejects_json_schema=True) as server:
        settings = server.llm_settings(cache_path=tmp_path / "llm.sqlite", **SLOWER)
        first = LLMClient.from_settings(settings)
        assert all(isinstance(r, Answer) for r in first.run_batch("seed_writer", seeds(4)))
        first.close()
        caplog.clear()
        caplog.set_level(logging.WARNING, logger="pipeline.llm")
        again = LLMClient.from_settings(settings)
        assert all(isinstance(r, Answer) and r.cached for r in again.run_batch("seed_writer", seeds(4)))
        again.close()
        assert not [r for r in caplog.records if "rejected response_format" in r.getMessage()]  # nothing was sent


def test_without_the_flag_the_server_takes_json_schema():
    with FakeOpenAIServer() as server:
        client = LLMClient(server.llm_settings(**SLOWER))
        assert all(isinstance(r, Answer) for r in client.run_batch("seed_writer", seeds(3)))
        assert client.accounting.usage("seed_writer").requests == 3


@pytest.mark.parametrize("kind, reason", [
    ("empty", "invalid answer after one repair: the answer is empty"),
    ("off_schema", "invalid answer after one repair: does not match the schema"),
    ("truncated", "the answer was cut off at max_tokens=1024 (not valid JSON"),
])
def test_each_bad_answer_ends_as_a_failure_with_its_reason(kind, reason):
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=(kind,)), rejects_json_schema=True) as server:
        client = LLMClient(server.llm_settings(**SLOWER))
        [result] = client.run_batch("seed_writer", seeds(1))
    assert isinstance(result, ItemError) and not result.refused
    assert result.error.startswith(reason), result.error
    usage = client.accounting.usage("seed_writer")
    assert usage.failures == 1 and usage.items == 1
    # truncation is not repaired (it would be cut off again); the others get one repair round
    assert usage.repairs == (0 if kind == "truncated" else 1)


def test_a_truncated_answer_is_kept_raw_for_the_record():
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("truncated",))) as server:
        client = LLMClient(server.llm_settings(**SLOWER))
        [result] = client.run_batch("seed_writer", seeds(1))
    assert isinstance(result, ItemError) and result.raw.startswith('{"image_description"')


def test_cache_failures_keeps_the_models_own_bad_answers_so_a_rerun_sends_nothing(tmp_path):
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("truncated",))) as server:
        settings = server.llm_settings(cache_path=tmp_path / "llm.sqlite", **SLOWER)
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


def test_a_text_only_endpoint_gets_no_image_and_the_image_only_roles_fail_with_why():
    png = small_png()
    with FakeOpenAIServer() as server:
        client = LLMClient(server.llm_settings(vision=False, **SLOWER))
        [checked] = client.run_batch("harm_filter", [HarmFilterInput(
            original_query="q", query="q2", image_description="d", image_png=png)])
        [refined] = client.run_batch("image_refiner", [ImageRefinerInput(
            image_png=png, element="knife", image_description="a knife")])
    assert isinstance(checked, Answer) and server.state.requests["harm_filter"] == 1
    assert server.state.with_image["harm_filter"] == 0  # text only, as a plain string
    assert isinstance(refined, ItemError) and "needs to see the image" in refined.error
    assert server.state.requests["image_refiner"] == 0
    assert client.accounting.usage("image_refiner").failures == 1


@pytest.mark.parametrize("vision", [True, False])
def test_on_a_llama_cpp_like_server_only_a_text_only_endpoint_keeps_the_text(vision):
    png = small_png()
    item = HarmFilterInput(original_query="how to hide the knife", query="how to hide the knife",
                           image_description="a kitchen knife on a table", image_png=png)
    with FakeOpenAIServer(rejects_json_schema=True) as server:
        client = LLMClient(server.llm_settings(vision=vision, **SLOWER))
        [answer] = client.run_batch("harm_filter", [item])
    # the scripted judge flags the words the query shares with the description; with the image
    # part in the message, llama.cpp's template drops the text and the verdict is about nothing
    assert isinstance(answer, Answer) and answer.output.text_harmful is (not vision)


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()
