"""A filter of a researcher's own, between the built-in stages (an API audit): a `gather` that gave fewer
pieces of evidence than pairs made the rest vanish with no decision, failure or block; a list of pairs
given for a Batch failed deep inside the stage."""

from __future__ import annotations

import pytest

from pipeline.batch import Batch
from pipeline.records import CandidatePair
from pipeline.stages.filter import FilterStage, Judgement


class ShortAnswers(FilterStage):
    """Scores query length; its scorer answered for all but the last pair."""
    name = "query_length"

    def gather(self, pairs, batch):
        return [len(pair.final_query) for pair in pairs][:-1]

    def judge(self, pair, evidence):
        return Judgement(keep=evidence < 80, code="length.ok" if evidence < 80 else "length.long",
                         reason=f"{evidence} characters", score=float(evidence))


def pair(query: str) -> CandidatePair:
    return CandidatePair(seed_id="s1", original_query=query, final_query=query, image_description="A table.",
                         category="Violent", sub_category="Weapon-Related Violence", element="knife",
                         source="generation", safety_reason="r")


def test_a_gather_short_of_one_piece_per_pair_is_an_error_not_a_lost_pair():
    batch = Batch(seeds=[], pairs=[pair("What is this for?"), pair("Where would this go?"), pair("Why is it here?")])
    with pytest.raises(ValueError, match="ShortAnswers.gather gave 2 pieces of evidence for 3 pairs"):
        ShortAnswers()(batch)


def test_a_stage_given_a_list_of_pairs_says_it_takes_a_batch():
    with pytest.raises(TypeError, match="the query_length stage takes a Batch .* not list"):
        ShortAnswers()([pair("What is this for?")])


@pytest.mark.parametrize("floor", ["0.4", 5, True, -2])
def test_the_harm_checks_intent_floor_is_a_cosine(floor):
    from pipeline.stages.harm_check import HarmCheckStage

    with pytest.raises(ValueError, match="min_intent_similarity is a cosine, a number from -1 to 1"):
        HarmCheckStage(embedder=None, min_intent_similarity=floor)


def test_a_numpy_floor_is_a_number():
    import numpy as np

    from pipeline.stages.harm_check import HarmCheckStage

    assert HarmCheckStage(embedder=None, min_intent_similarity=np.float32(0.35)).min_intent_similarity == np.float32(0.35)
