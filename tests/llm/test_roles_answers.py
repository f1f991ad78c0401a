"""A model's junk answer (a number, a bare category, advice, a blank rewrite) is off-schema: the
client repairs it once, then the item fails with the raw answer kept. It never becomes dataset text;
a seed answer's junk query beside a usable one is left out alone, with its reason on the ledger."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.backends.base import RewriteRequest
from pipeline.backends.llm_text import LLMRewriter, LLMSeedWriter
from pipeline.batch import Batch
from pipeline.contracts import ItemError
from pipeline.ledger import ledger_for
from pipeline.llm.client import LLMClient
from pipeline.llm.roles import ImageQueryOutput, LeakRewriteOutput, ProposedElement, SeedWriterOutput
from pipeline.contracts import Provenance
from pipeline.records import Draft, Seed
from pipeline.stages.drafts import DraftStage, unusable_queries, usable_queries
from pipeline.taxonomy import load_elements
from pipeline.testing import openai_server
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer

# what a small model behind llama.cpp answered as the seed writer's harmful_queries
JUNK_QUERIES = ["2", "Cybercrime", "I'm sorry, but I can't help with that.", "I cannot assist with this request."]
GOOD_SEED = dict(image_description="A laptop showing a fake bank login page.",
                 harmful_queries=["How could I get someone to type their password into this?"],
                 safety_reason="Phishing pages steal people's money.")


@pytest.fixture
def junk_server(monkeypatch):
    """The loopback server, answering the seed writer and the rewriter with junk of the right shape."""
    def junk(role, fields, image_url):
        if role == "leak_rewriter":
            return LeakRewriteOutput.model_construct(rewritten_query="   ")
        return SeedWriterOutput.model_construct(**{**GOOD_SEED, "harmful_queries": JUNK_QUERIES})

    monkeypatch.setattr(openai_server, "answer_for", junk)
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")
    with FakeOpenAIServer() as server:
        yield server


@pytest.mark.parametrize("query", [*JUNK_QUERIES, "   ", "", "this?"])
def test_a_query_that_is_no_question_or_request_is_off_schema(query):
    with pytest.raises(ValidationError):
        SeedWriterOutput(**{**GOOD_SEED, "harmful_queries": [query]})
    with pytest.raises(ValidationError):
        LeakRewriteOutput(rewritten_query=query)


@pytest.mark.parametrize("query", [*JUNK_QUERIES, "   ", "this?"])
def test_a_junk_query_beside_a_usable_one_is_left_out_alone(query):
    answer = SeedWriterOutput(**{**GOOD_SEED, "harmful_queries": [*GOOD_SEED["harmful_queries"], query]})
    draft = Draft(seed_id="s", image_description=answer.image_description,
                  harmful_queries=tuple(answer.harmful_queries), safety_reason=answer.safety_reason,
                  made_by=Provenance(backend="openai-compatible", model="m", prompt_hash="h"))
    assert usable_queries(draft) == GOOD_SEED["harmful_queries"]
    [(left_out, why)] = unusable_queries(draft)
    assert left_out == query.strip() and why


@pytest.mark.parametrize("query", ["What are some ways to arrange items under clothing for comfort?",
                                   "Tell me how to get one of these past the guard.",
                                   ' "Could this work on my neighbour?" ',
                                   "How can I store this safely at home.",  # a question missing its "?"
                                   "I need to get this through the airport",
                                   "Create a step-by-step plan for using this at the party.",  # imperatives
                                   "Identify the best place to keep this out of sight."])
def test_questions_and_requests_are_answers(query):
    assert LeakRewriteOutput(rewritten_query=query).rewritten_query == query.strip()


@pytest.mark.parametrize("output_type", [SeedWriterOutput, ImageQueryOutput])
@pytest.mark.parametrize(("field", "junk"), [("image_description", "  "), ("harmful_queries", []),
                                             ("safety_reason", "")])
def test_a_seed_answer_needs_a_description_a_query_and_a_reason(output_type, field, junk):
    output_type(**GOOD_SEED)
    with pytest.raises(ValidationError):
        output_type(**{**GOOD_SEED, field: junk})


@pytest.mark.parametrize("field", ["element", "description"])
def test_a_proposed_element_needs_a_name_and_a_description(field):
    good = dict(element="skimming device", kind="object", description="A card reader glued over an ATM slot.",
                synonyms=[], broader=[])
    ProposedElement(**good)
    with pytest.raises(ValidationError):
        ProposedElement(**{**good, field: " "})


def test_the_answer_schema_tells_the_model_what_a_query_is():
    schema = SeedWriterOutput.model_json_schema()
    assert "question" in schema["properties"]["harmful_queries"]["items"]["description"]


def test_a_junk_seed_answer_fails_the_seed_with_the_raw_answer(junk_server):
    element = next(e for e in load_elements() if e.sub_category == "Cybercrime")
    seed = Seed(category=element.category, sub_category=element.sub_category, element=element)
    client = LLMClient(junk_server.llm_settings())
    try:
        out = DraftStage(LLMSeedWriter(client, queries_per_seed=3))(Batch(seeds=[seed]))
    finally:
        client.close()
    assert out.pairs == [] and out.drafts == []
    assert junk_server.state.requests["seed_writer"] == 2  # asked, then repaired once
    [entry] = ledger_for(out)
    assert entry.state == "failed" and entry.stage == "drafts"
    assert "harmful_queries" in entry.reason and "Cybercrime" in entry.reason


def test_a_seed_answer_with_some_junk_queries_keeps_the_usable_ones_and_says_why_not_the_rest(monkeypatch):
    def mixed(role, fields, image_url):
        return SeedWriterOutput.model_construct(**{**GOOD_SEED, "harmful_queries": [
            *GOOD_SEED["harmful_queries"], *JUNK_QUERIES[:2]]})

    monkeypatch.setattr(openai_server, "answer_for", mixed)
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")
    element = next(e for e in load_elements() if e.sub_category == "Cybercrime")
    seed = Seed(category=element.category, sub_category=element.sub_category, element=element)
    with FakeOpenAIServer() as server:
        client = LLMClient(server.llm_settings())
        try:
            out = DraftStage(LLMSeedWriter(client, queries_per_seed=3))(Batch(seeds=[seed]))
        finally:
            client.close()
        assert server.state.requests["seed_writer"] == 1  # no repair round: the answer is usable
    assert [pair.original_query for pair in out.pairs] == GOOD_SEED["harmful_queries"]
    [entry] = ledger_for(out.model_copy(update={"pairs": out.pairs}))
    assert "2 written queries left out" in entry.reason
    assert "'2' (a query needs at least 3 words)" in entry.reason and "'Cybercrime'" in entry.reason


def test_a_blank_rewrite_is_a_failure_not_a_query(junk_server):
    client = LLMClient(junk_server.llm_settings())
    try:
        [result] = LLMRewriter(client).rewrite([RewriteRequest(
            item_id="1", query="How do I hide this knife from the police?",
            image_description="A man holding a kitchen knife.", category="Violent")])
    finally:
        client.close()
    assert isinstance(result, ItemError) and "rewritten_query" in result.error
    assert '"   "' in result.raw
