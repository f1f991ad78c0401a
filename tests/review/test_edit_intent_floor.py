"""An edit keeps too little of the pair's intent when its similarity to the original query is under the
run's floor (`harm_check.min_intent_similarity`): just under is flagged, exactly at the floor passes
(mutation round 3); a leak score exactly at the threshold leaks. The detector and the similarity are
scripted: no MiniLM."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from tests.support.review_runs import make_run

from pipeline.config import HarmCheckConfig
from pipeline.review.batches import export_batches, load_batches
from pipeline.review.scoring import EditScorer

CLEAN = "how could I hide what is on the table?"  # leak-free and harmless
FLOOR = HarmCheckConfig().min_intent_similarity


class ScriptedDetector:
    threshold, version = 0.5, "scripted"

    def __init__(self, score: float = 0.05):
        self.leak_score = score

    def score(self, inputs):
        return [SimpleNamespace(score=self.leak_score, spans=(), signals={}) for _ in inputs]


class ScriptedIntent(EditScorer):
    """The original and the edited query embed `similarity` apart."""

    def __init__(self, similarity: float, leak_score: float = 0.05):
        super().__init__(ScriptedDetector(leak_score))
        self.similarity = similarity

    def _embed(self, texts):
        return np.array([[1.0, 0.0], [self.similarity, math.sqrt(1 - self.similarity ** 2)]])


@pytest.fixture()
def item(tmp_path):
    export_batches(make_run(tmp_path, pairs=1), batch_size=1)
    return next(iter(load_batches(tmp_path / "fake")[0].items.values()))


def test_an_edit_just_under_the_intent_floor_is_flagged(item):
    check = ScriptedIntent(FLOOR - 0.01).check(item, CLEAN)

    assert not check.passes and check.harm_verdict == "drop"
    assert check.problems == (f"intent drifted (similarity {FLOOR - 0.01:.3f} < {FLOOR:.3f})",)


def test_an_edit_exactly_at_the_intent_floor_passes(item):
    check = ScriptedIntent(FLOOR).check(item, CLEAN)

    assert check.passes and check.harm_verdict == "keep"


def test_an_edit_scoring_exactly_the_threshold_leaks(item):
    check = ScriptedIntent(FLOOR, leak_score=0.5).check(item, CLEAN)

    assert check.leaks and check.problems == ("leaks: score 0.500 >= threshold 0.500",)
