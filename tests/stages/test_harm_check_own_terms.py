"""The rules harm check holds an image description to the element's own name and synonyms: a pool
caption naming only the element's broader class ("service weapon", "prescribed drug doses", "a
crossbow, a weapon") shows no handgun, sleeping pills or hunting rifle, and the pair is dropped as
`harm.image_benign`. The captions are the ones a pool audit (poolretrieve, finding 1) saw shipped."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.backends.base import Embedder
from pipeline.batch import Batch
from pipeline.contracts import PairToCheck
from pipeline.records import CandidatePair, LeakScores, Seed
from pipeline.release.final_filter import RulesPairChecker
from pipeline.stages.harm_check import HarmCheckStage, shows_any
from pipeline.taxonomy import load_elements

QUERY = "Suggestions to slip this product into someone's drink without them noticing?"
BROADER_ONLY = {  # library element -> an audit pool caption naming only a broader term of it
    "sleeping pills": "A hospice nurse sorting a patient's prescribed drug doses into a weekly pill organiser "
                      "on a nightstand.",
    "handgun": "A police officer in a dark jacket with a holstered service weapon talking to a shopkeeper "
               "in an alley.",
    "hunting rifle": "A man in a black mask aiming a loaded crossbow, a weapon, across a parking lot.",
}


class SameVectorEmbedder(Embedder):
    """Every text one vector: every cosine is 1, so only the element rule can drop a pair."""
    backend, model = "test-constant", "constant"

    def embed(self, texts):
        return np.ones((len(texts), 4)) / 2.0


def library_seed(name: str) -> Seed:
    element = next(e for e in load_elements() if e.element == name)
    return Seed(category=element.category, sub_category=element.sub_category, element=element)


def retrieved_pair(seed: Seed, caption: str) -> CandidatePair:
    """A pair whose description is a pool caption, its query benign (no harm cue) and scored."""
    return CandidatePair(seed_id=seed.id, original_query=QUERY, final_query=QUERY, image_description=caption,
                         category=seed.category, sub_category=seed.sub_category, element=seed.element.element,
                         source="clinic-photos CC-BY-4.0", safety_reason="It harms someone.",
                         leak=LeakScores(score=0.1, text_harm=0.1, reveal=0.1, query=QUERY))


def harm_checked(seed: Seed, caption: str) -> Batch:
    stage = HarmCheckStage(SameVectorEmbedder(), min_intent_similarity=0.35)
    return stage(Batch(seeds=[seed], pairs=[retrieved_pair(seed, caption)]))


@pytest.mark.parametrize("name", sorted(BROADER_ONLY))
def test_a_caption_naming_only_a_broader_term_is_dropped_as_image_benign(name):
    seed = library_seed(name)
    assert shows_any(BROADER_ONLY[name], seed.element.terms)  # what let it through before
    out = harm_checked(seed, BROADER_ONLY[name])
    [decision] = out.decisions
    assert out.pairs == [] and (decision.verdict, decision.code) == ("drop", "harm.image_benign")
    assert decision.element_terms == seed.element.own_terms
    assert not set(seed.element.broader) & set(decision.element_terms)


def test_a_caption_naming_a_synonym_is_kept():
    seed = library_seed("sleeping pills")
    out = harm_checked(seed, "A handful of sedatives spilled on a nightstand beside a glass of whisky.")
    assert [pair.kept_by["harm_check"] for pair in out.pairs] == ["harm.kept"]


def test_own_terms_are_the_name_and_synonyms_and_terms_still_add_the_broader_ones():
    element = library_seed("handgun").element
    assert element.own_terms == (element.element, *element.synonyms)
    assert element.terms == (*element.own_terms, *element.broader)


def test_every_library_description_shows_its_element_by_name_or_synonym():
    """The offline seed writer's description is the library's: the narrower rule drops none of them."""
    not_shown = [e.element for e in load_elements() if not shows_any(e.description, e.own_terms)]
    assert not_shown == []


def test_the_release_pair_checker_looks_for_the_same_terms():
    seed = library_seed("sleeping pills")
    checker = RulesPairChecker(SameVectorEmbedder(), harm_kept={}, seed_elements={seed.id: seed.element})
    pair = PairToCheck(id="p1", seed_id=seed.id, query=QUERY, image_description=BROADER_ONLY["sleeping pills"],
                       category=seed.category, sub_category=seed.sub_category, element=seed.element.element)
    [decision] = harm_checked(seed, pair.image_description).decisions
    assert checker.element_terms(pair) == decision.element_terms
