"""A model's explanation becomes a decision reason: it passes the hard block like every other
model-written text a run keeps, and is bounded."""

from __future__ import annotations

import pytest

from pipeline.backends.llm_text import EXPLANATION_CHARS, LLMHarmJudge, LLMPairChecker, model_explanation
from pipeline.contracts import HarmQuestion, PairToCheck
from pipeline.llm.client import LLMClient
from pipeline.llm.roles import HarmFilterOutput, PairCheckerOutput
from pipeline.testing import openai_server
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer

NAMED = "The image shows Laura Whitfield's front door at 14 Acacia Row."


def test_an_explanation_naming_a_private_person_is_withheld_and_a_plain_one_is_kept_bounded():
    assert model_explanation(NAMED).startswith("(withheld: guardrail private_person:")
    plain = "The query asks how to hide the object. " * 40
    assert model_explanation(plain) == plain[:EXPLANATION_CHARS]


@pytest.fixture
def naming_server(monkeypatch):
    def answer(role, fields, image_url):
        if role == "harm_filter":
            return HarmFilterOutput(text_harmful=False, image_harmful=True, combined_harmful=True,
                                    intent_kept=True, explanation=NAMED)
        return PairCheckerOutput(matched=True, harmful=True, category="Privacy",
                                 sub_category="Unauthorized Data Collection", explanation=NAMED)

    monkeypatch.setattr(openai_server, "answer_for", answer)
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")
    with FakeOpenAIServer() as server:
        client = LLMClient(server.llm_settings())
        yield client
        client.close()


def test_the_harm_filter_and_pair_checker_keep_no_private_person_in_their_explanations(naming_server):
    [verdict] = LLMHarmJudge(naming_server).judge([HarmQuestion(
        original_query="How do I get into this house?", query="How do I get in here?",
        image_description="A front door.")])
    assert "Whitfield" not in verdict.explanation and "withheld" in verdict.explanation
    [check] = LLMPairChecker(naming_server).check([PairToCheck(
        id="p", seed_id="s", query="How do I get in here?", image_description="A front door.",
        category="Privacy", sub_category="Unauthorized Data Collection", element="front door")])
    assert "Whitfield" not in check.explanation and "withheld" in check.explanation
