"""Real providers answer in shapes OpenAI's chat models do not: each is read as it means, and none
ends a batch with an exception (the loopback server's PROVIDER_QUIRKS)."""

from __future__ import annotations

import pytest

from pipeline.contracts import ItemError
from pipeline.llm.client import LLMClient
from pipeline.llm.roles import AnswererInput, SeedWriterInput
from pipeline.llm.session import Answer
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer

FAST = {"backoff_s": 0.01, "timeout_s": 5.0, "max_retries": 1}
SEED = SeedWriterInput(category="Violent", sub_category="Weapon-Related Violence", element="element-0001")
QUESTION = AnswererInput(instruction="What is a good way to describe this picture to a friend?")


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")


def ask(quirk: str, role: str = "seed_writer", item=SEED, roles: dict | None = None, **endpoint):
    with FakeOpenAIServer(quirk=quirk) as server:
        client = LLMClient(server.llm_settings(roles=roles, **{**FAST, **endpoint}))
        [result] = client.run_batch(role, [item])
    return result, client, server


@pytest.mark.parametrize("structured", [True, False])
def test_content_in_chunks_is_read_from_its_text_chunks_without_the_thinking(structured):
    result, _, _ = ask("content_list", structured_outputs=structured)
    assert isinstance(result, Answer) and "element-0001" in result.output.image_description
    answer, _, _ = ask("content_list", "answerer", QUESTION)
    assert isinstance(answer, Answer) and answer.output.text and "Maybe" not in answer.output.text


@pytest.mark.parametrize("role, item", [("seed_writer", SEED), ("answerer", QUESTION)])
def test_a_reply_in_no_completions_shape_is_the_items_error_not_a_crash(role, item):
    result, client, server = ask("bad_shape", role, item)
    assert isinstance(result, ItemError) and result.transient
    assert result.error == "malformed reply: 'choices' is not a list of objects"
    assert sum(server.state.requests.values()) == 1  # asked again, it would come back the same


REASONING = {"seed_writer": {"model": "o3-mini", "temperature": "default"}}


def test_a_reasoning_model_refuses_max_tokens_and_takes_max_completion_tokens_without_temperature():
    refused, _, _ = ask("reasoning_model")
    assert isinstance(refused, ItemError) and "Use 'max_completion_tokens'" in refused.error
    result, _, _ = ask("reasoning_model", roles=REASONING, token_limit="max_completion_tokens")
    assert isinstance(result, Answer) and "element-0001" in result.output.image_description


def test_the_evaluate_image_probe_asks_a_reasoning_model_as_its_answers_will(monkeypatch):
    from pipeline.cli.preflight import probe_messages, prompt_tokens
    from pipeline.evaluate.models import ModelEndpoint

    with_image, _ = probe_messages()
    with FakeOpenAIServer(quirk="reasoning_model") as server:
        endpoint = ModelEndpoint(base_url=server.base_url, api_key_env=FAKE_KEY_ENV, model="o3-mini",
                                 temperature="default", token_limit="max_completion_tokens")
        assert prompt_tokens(endpoint, with_image) > 0
        settings = endpoint.llm_settings("answerer")
        client = LLMClient(settings)
        [answer] = client.run_batch("answerer", [QUESTION])
    assert isinstance(answer, Answer) and answer.output.text


@pytest.mark.parametrize("structured", [True, False])
def test_leading_think_reasoning_is_no_part_of_the_answer(structured):
    result, client, _ = ask("think", structured_outputs=structured)
    assert isinstance(result, Answer) and "element-0001" in result.output.image_description
    assert client.accounting.usage("seed_writer").repairs == 0
    answer, _, _ = ask("think", "answerer", QUESTION)
    assert isinstance(answer, Answer) and answer.output.text.startswith("Sure, happy to help")


def test_a_refusal_after_think_reasoning_is_recognised():
    with FakeOpenAIServer(quirk="think", refusing_models=frozenset({"prude"})) as server:
        client = LLMClient(server.llm_settings(roles={"seed_writer": {"model": "prude"}},
                                               structured_outputs=False, **FAST))
        [result] = client.run_batch("seed_writer", [SEED])
    assert isinstance(result, ItemError) and result.refused and result.error.startswith("I'm sorry")


def test_an_error_in_a_200_body_is_that_http_error_retried_with_its_message():
    result, client, _ = ask("error_200")
    assert isinstance(result, ItemError) and result.transient
    assert result.error == "gave up after 2 attempts: HTTP 502: upstream provider returned an error"
    assert client.accounting.usage("seed_writer").retries == 1


def test_finish_reason_error_is_a_provider_error_retried_not_repaired():
    result, client, _ = ask("finish_error")
    assert isinstance(result, ItemError) and result.transient and "finish_reason error" in result.error
    assert client.accounting.usage("seed_writer").repairs == 0


FILTERED = "the provider's content filter stopped the answer (finish_reason content_filter)"


def test_a_content_filter_stop_is_the_deployments_refusal_without_a_repair_request():
    result, _, server = ask("content_filter")
    assert isinstance(result, ItemError) and result.refused and not result.transient and result.error == FILTERED
    assert sum(server.state.requests.values()) == 1
    # evaluate judges what the deployment gave: leaving it out would take the most harmful pairs out of its rates
    answer, _, server = ask("content_filter", "answerer", QUESTION)
    assert isinstance(answer, Answer) and answer.output.text == FILTERED
    assert sum(server.state.requests.values()) == 1


@pytest.mark.parametrize("text, finish_reason, answer", [
    ('<think>Draft: {"label": 3}</think>\n{"label": 1}', "stop", '{"label": 1}'),
    # DeepSeek-R1's template opens the block in the prompt: vLLM returns only its close
    ('Okay, the user wants JSON. {"label": 3}</think>{"label": 1}', "stop", '{"label": 1}'),
    ("<think> is a tag some models emit; it is not standard HTML.", "stop",
     "<think> is a tag some models emit; it is not standard HTML."),
    ("<think>Let me weigh this carefully, step by step", "length", ""),
])
def test_the_reasoning_that_leads_an_answer_is_left_out_and_only_it(text, finish_reason, answer):
    from pipeline.llm.messages import without_reasoning

    assert without_reasoning(text, finish_reason) == answer


def test_an_answer_cached_with_its_reasoning_is_asked_again(tmp_path, monkeypatch):
    """Answers cached before the reasoning was left out keep it; served from the cache, the judge read it."""
    import pipeline.llm.sending

    with FakeOpenAIServer(quirk="think") as server:
        settings = server.llm_settings(cache_path=tmp_path / "llm.sqlite", **FAST)
        with monkeypatch.context() as before:  # the client as it was: the reasoning kept
            before.setattr(pipeline.llm.sending, "without_reasoning", lambda text, finish_reason=None: text)
            kept = answered_once(settings)
        asked_again, cached = answered_once(settings), answered_once(settings)
        requests = sum(server.state.requests.values())
    assert kept.output.text.startswith("<think>")
    assert not asked_again.cached and asked_again.output.text.startswith("Sure, happy to help")
    assert cached.cached and cached.output.text == asked_again.output.text and requests == 2


def answered_once(settings):
    client = LLMClient.from_settings(settings)  # with the answer cache the settings name
    try:
        [answer] = client.run_batch("answerer", [QUESTION])
    finally:
        client.close()  # its answers kept in the cache
    return answer
