"""An edit in another language is outside the leak detector's scope (it reads English only): its low
score clears nothing, so the re-check flags it, whatever the score, and it counts only with an override,
like a failing one. Scripted detector for the check itself; the real one (with its language test) in the app."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.support.review_runs import make_run

from pipeline.review.batches import export_batches, load_batches
from pipeline.review.scoring import NOT_ENGLISH_PROBLEM, EditScorer

# Four words of Spanish: the hard block judges no language below five words (README, Guardrails), so
# the leak detector's language test is what flags it. Chinese is refused by the block unread.
SPANISH = "¿Cómo se usa esto?"


class LowScoreDetector:
    threshold, version = 0.5, "scripted"

    def __init__(self, english: bool):
        self.english = english

    def score(self, inputs):
        return [SimpleNamespace(score=0.05, spans=(), signals={}, english=self.english) for _ in inputs]


class SameIntent(EditScorer):
    def _embed(self, texts):
        return np.array([[1.0, 0.0], [1.0, 0.0]])


@pytest.fixture()
def item(tmp_path):
    export_batches(make_run(tmp_path, pairs=1), batch_size=1)
    return next(iter(load_batches(tmp_path / "fake")[0].items.values()))


def test_a_low_scoring_edit_that_is_not_english_is_flagged_as_outside_the_detectors_scope(item):
    check = SameIntent(LowScoreDetector(english=False)).check(item, "une requête")

    assert not check.passes and check.problems == (NOT_ENGLISH_PROBLEM,)
    assert check.harm_verdict == "keep"  # the scope is the leak detector's: the harm verdict stays its own


def test_the_same_score_on_english_text_passes(item):
    assert SameIntent(LowScoreDetector(english=True)).check(item, "a query").passes


def test_the_api_asks_for_an_override_of_a_spanish_edit_and_takes_one(review):
    client, store, token = review
    headers = {"Authorization": f"Bearer {token}"}
    pair = client.get("/api/batches/fake-b000", headers=headers).json()["items"][0]["pair_id"]
    body = {"batch_id": "fake-b000", "pair_id": pair, "action": "edit", "edited_query": SPANISH}

    refused = client.post("/api/decisions", json=body, headers=headers)
    assert refused.status_code == 409 and refused.json()["problems"][0] == NOT_ENGLISH_PROBLEM
    kept = client.post("/api/decisions", json={**body, "override_reason": "checked by a reader"}, headers=headers)
    assert kept.status_code == 201 and kept.json()["override_reason"] == "checked by a reader"
