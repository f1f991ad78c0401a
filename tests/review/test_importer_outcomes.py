"""What a review import makes of a pair's labels: which adjudication settles it, when one lapses,
which reasons it carries, when it counts as edited, which ids it lists as accepted, and the leak
evidence a batch shows an annotator."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd

from pipeline.review import importer
from pipeline.review.batches import leak_evidence
from pipeline.review.decisions import ADJUDICATION, Event
from pipeline.review.importer import import_review, pair_row, reject_reasons, review_state, shipped_edit

ITEM = SimpleNamespace(pair_id="p1", run_id="r1", batch_id="b1", category="c", instruction="the pipeline's query?",
                       leak_score=0.2, leak_threshold=0.5)


def label(event_id: int, annotator: str, action: str, query: str | None = None, reason: str | None = None,
          source: str = "web") -> Event:
    if action == "reject" and reason is None:
        reason = "still_leaks"
    return Event(id=event_id, run_id="r1", batch_id="b1", pair_id="p1", annotator=annotator, action=action,
                 reason=reason, edited_query=query, new_leak_score=0.1, previous_action=None, previous_reason=None,
                 previous_query=None, at=f"2026-12-05T13:00:{event_id:02d}", source=source, request_id=None)


def test_the_latest_adjudication_settles_the_pair():
    ann, bob = label(1, "ann", "reject"), label(2, "bob", "accept")
    first = label(3, "adjudicator:lead", "reject", reason="not_harmful", source=ADJUDICATION)
    second = label(4, "adjudicator:lead", "accept", source=ADJUDICATION)
    assert review_state(ITEM, [ann, bob, first]) == "rejected"
    assert review_state(ITEM, [ann, bob, first, second]) == "accepted"


def test_an_accept_edit_whose_annotator_changed_the_edit_since_settles_nothing():
    """The chosen text is no longer anyone's: shipping it (or the pipeline's query in its place) is
    a decision nobody made, so the pair goes back to the lead as a conflict."""
    bob = label(1, "bob", "edit", "bob's edit?")
    chosen = label(3, "adjudicator:lead", "edit", "ann's first edit?", source=ADJUDICATION)
    ann_now = label(4, "ann", "edit", "ann's second edit?")  # her current label replaced the chosen one
    assert review_state(ITEM, [bob, chosen, ann_now]) == "conflict"
    assert shipped_edit(ITEM, [bob, chosen, ann_now]) is None


def test_an_adjudicated_rejection_gives_the_adjudicators_reason_alone():
    ann = label(1, "ann", "reject", reason="still_leaks")
    bob = label(2, "bob", "accept")
    lead = label(3, "adjudicator:lead", "reject", reason="image_mismatch", source=ADJUDICATION)
    assert review_state(ITEM, [ann, bob, lead]) == "rejected"
    assert reject_reasons("rejected", [ann, bob, lead]) == "image_mismatch"
    assert reject_reasons("conflict", [ann, bob]) == "still_leaks"


def test_an_edit_back_to_the_pipelines_query_is_not_an_edit():
    same = label(1, "ann", "edit", ITEM.instruction)
    assert review_state(ITEM, [same]) == "accepted" and shipped_edit(ITEM, [same]) is None
    row = pair_row(ITEM, [same])
    assert row["edited"] is False and row["edited_by"] is None and row["new_leak_score"] is None


def test_accepted_ids_lists_only_the_accepted_pairs(tmp_path, monkeypatch):
    states = {"a": "accepted", "b": "rejected", "c": "conflict", "d": "unreviewed", "e": "skipped", "f": "accepted"}
    frame = pd.DataFrame({"id": list(states), "review_state": list(states.values())})
    monkeypatch.setattr(importer, "review_frame", lambda run_dir, store: frame)
    import_review(tmp_path, store=None)
    assert json.loads((tmp_path / "review" / "accepted_ids.json").read_text()) == ["a", "f"]


def test_a_batch_shows_the_leak_filters_last_attempt(tmp_path):
    """A rewritten pair was scored again: the annotator sees the score's evidence for the query that ships."""
    rows = [{"item_id": "p1", "stage": "leak_filter", "attempt": attempt, "threshold": threshold,
             "spans": spans, "detector_version": version}
            for attempt, threshold, spans, version in [(1, 0.5, ["knife"], "d1"), (0, 0.4, ["blade"], "d0")]]
    rows.append({"item_id": "p1", "stage": "harm_check", "attempt": 2, "threshold": 0.9, "spans": [],
                 "detector_version": ""})
    pd.DataFrame(rows).to_parquet(tmp_path / "decisions.parquet")
    evidence = leak_evidence(tmp_path)["p1"]
    assert (evidence["leak_threshold"], evidence["leak_spans"], evidence["detector_version"]) == (0.5, ["knife"], "d1")
