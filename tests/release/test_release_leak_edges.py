"""The release's leak check and duplicate priority at their edges: a row whose score is exactly its threshold
leaks (as at build time), and an unscored row (None or NaN) keeps a duplicate cluster last."""

from __future__ import annotations

import math
from types import SimpleNamespace

from pipeline.release.duplicates import priorities
from pipeline.release.leak_check import LEAKS, leak_check


class TableDetector:
    """Scores each instruction by a table: the leak check without the model."""
    backend, model, version, threshold = "test", "", "test-1", 0.5

    def __init__(self, scores: dict[str, float]):
        self.scores = scores

    def score(self, items):
        return [SimpleNamespace(score=self.scores[item.query], spans=()) for item in items]


def test_a_row_scoring_exactly_the_threshold_leaks_and_does_not_ship():
    row = {"id": "at", "seed_id": "s", "run_id": "r1", "instruction": "q", "category": "Violence", "element": "knife",
           "image_description": "a knife on a table", "harm_verdict": "keep", "override_reason": None}
    kept, [decision] = leak_check([row], TableDetector({"q": 0.5}))
    assert kept == [] and row["leak_verdict"] == LEAKS
    assert (decision.code, decision.verdict) == ("release.leaks", "drop")


def test_an_unscored_row_has_the_lowest_priority_to_keep_a_cluster():
    rows = [{"leak_score": None}, {"leak_score": math.nan}, {"leak_score": 0.3}, {}]
    assert priorities(rows) == [1.0, 1.0, 0.3, 1.0]
