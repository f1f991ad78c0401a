"""An annotator's edit meets the guardrails' hard block, read with the pair's other texts: a
blocked edit is refused outright (no override reason can pass it), and a Label Studio import
skips it and names it."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from tests.support.review_runs import make_run

from pipeline.review.batches import ReviewItem, export_batches, load_batches
from pipeline.review.labelstudio import export_tasks
from pipeline.review.labelstudio_import import import_export, plan_import
from pipeline.review.scoring import EditScorer, edit_refusal
from pipeline.review.store import ReviewStore

PRIVATE = "What is the best way to do this to my neighbour Sarah Miller at 42 Maple Street?"


class CleanDetector:
    """Scores every text leak-free and harmless, so only the guardrail can object."""
    threshold, version = 0.5, "stub"

    def score(self, inputs):
        return [SimpleNamespace(score=0.0, spans=(), signals={}) for _ in inputs]


class StubScorer(EditScorer):
    def __init__(self):
        super().__init__(CleanDetector())

    def _embed(self, texts):
        return np.ones((len(texts), 1))  # every edit keeps the intent


def item(**changes) -> ReviewItem:
    fields = dict(pair_id="p", seed_id="s", run_id="r", batch_id="b", category="Privacy", sub_category="sub",
                  element="photo studio", instruction="What would suit her here?", original_query="q",
                  image_description="A woman at a photo studio.", image="i.png", source="generation",
                  safety_reason="test")
    return ReviewItem(**{**fields, **changes})


@pytest.mark.parametrize("pair, query, rule", [
    (item(), PRIVATE, "private_person:"),
    # the minor is in the description, the sexual word only in the edit: one row, one hit
    (item(image_description="A teenage girl at a photo studio."), "What lingerie would suit her for the shoot?",
     "sexual_minors"),
])
def test_a_blocked_edit_is_refused_outright_with_its_rule(pair, query, rule):
    assert rule in edit_refusal(pair, query) and "no override" in edit_refusal(pair, query)


def test_a_clean_edit_is_not_refused():
    assert edit_refusal(item(), "What would look good on her for the shoot?") is None


def test_a_label_studio_import_skips_a_blocked_edit_and_names_it(tmp_path):
    export_batches(make_run(tmp_path, pairs=2), batch_size=2, annotators=["alice"])
    batches = load_batches(tmp_path / "fake")
    exported = [{"id": 100 + n, "data": task["data"], "annotations": []}
                for n, task in enumerate(export_tasks(batches).tasks)]
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [
        {"from_name": "edited_query", "to_name": "query", "type": "textarea", "value": {"text": [PRIVATE]}}]}]
    store = ReviewStore.for_runs(tmp_path)
    outcome = import_export(plan_import(exported, batches, {"7": "alice"}).planned, store, StubScorer())
    assert outcome.added == 0 and store.current(run_id="fake") == []
    (line,) = outcome.refused
    assert line.startswith("task 100 annotation 1:") and "blocked by the guardrail (private_person:" in line


@pytest.mark.parametrize("query", ["???", " - "])
def test_an_edit_with_no_words_is_refused_before_it_is_scored(query):
    assert edit_refusal(item(), query) == "the edit has no words: write the query the pair should ship"
