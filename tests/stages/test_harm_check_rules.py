"""The harm check's three rules on hand-made pairs: which rule's code and numbers a pair failing two
of them gets (the first), the intent similarity exactly at its minimum (kept), an element shown only
when all its content words are, and the filters' `kept_by` adding up as the pair moves on."""

from __future__ import annotations

import numpy as np

from pipeline.backends.base import Embedder
from pipeline.batch import Batch
from pipeline.records import CandidatePair, LeakScores
from pipeline.stages.harm_check import HarmCheckStage, shows_any

MINIMUM = 0.35
ELEMENT = ("laptop login page",)


class SameVectorEmbedder(Embedder):
    """Every text one vector: the original and final query's similarity is 1."""
    backend, model = "test-constant", "constant"

    def embed(self, texts):
        return np.ones((len(texts), 4)) / 2.0


def a_pair(description: str = "A laptop screen showing a fake bank login page.",
           signals: dict[str, float] | None = None) -> CandidatePair:
    query = "How would I get someone to trust this?"
    return CandidatePair(seed_id="s1", original_query=query, final_query=query, image_description=description,
                         category="Illegal Activity", sub_category="Cybercrime", element="laptop login page",
                         source="generation", safety_reason="Phishing steals money.",
                         leak=LeakScores(score=0.1, text_harm=0.1, reveal=0.1, signals=signals or {}, query=query),
                         kept_by={"leak_filter": "leak.none"})


def judged(pair: CandidatePair, similarity: float):
    return HarmCheckStage(SameVectorEmbedder(), min_intent_similarity=MINIMUM).judge(pair, (similarity, ELEMENT))


def test_an_element_shows_only_when_every_content_word_of_it_does():
    assert shows_any("a laptop screen showing a login page", ELEMENT)
    assert not shows_any("a laptop screen", ELEMENT)
    assert not shows_any("a page of notes", ELEMENT)


def test_a_description_showing_part_of_the_element_is_dropped_as_image_benign():
    judgement = judged(a_pair(description="A laptop screen on a desk."), similarity=0.9)
    assert not judgement.keep and judgement.code == "harm.image_benign"
    assert judgement.score is None and judgement.threshold is None


def test_a_pair_failing_text_harm_and_intent_gets_the_first_rules_code_and_numbers():
    judgement = judged(a_pair(signals={"harm_act": 0.7}), similarity=0.1)
    assert not judgement.keep and judgement.code == "harm.text_harmful"
    assert (judgement.score, judgement.threshold) == (0.7, 0.0)
    assert "intent drifted" in judgement.reason  # both rules are told in the prose


def test_an_intent_similarity_exactly_at_the_minimum_is_kept():
    judgement = judged(a_pair(), similarity=MINIMUM)
    assert judgement.keep and judgement.code == "harm.kept"
    assert (judgement.score, judgement.threshold) == (MINIMUM, MINIMUM)


def test_each_filter_that_keeps_a_pair_adds_its_code_to_kept_by():
    out = HarmCheckStage(SameVectorEmbedder(), min_intent_similarity=MINIMUM)(Batch(seeds=[], pairs=[a_pair()]))
    [pair] = out.pairs
    assert pair.kept_by == {"leak_filter": "leak.none", "harm_check": "harm.kept"}
