"""Which text an accepted pair ships, and when the labels leave that to an adjudicator."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipeline.review.decisions import ADJUDICATION, Event
from pipeline.review.importer import edit_of, plain_accept_refusal, review_state, shipped_edit

ITEM = SimpleNamespace(pair_id="p1", instruction="the pipeline's query?")


def a_label(event_id: int, annotator: str, action: str, query: str | None = None, at: str = "2026-12-05T13:00:00",
            source: str = "web", override: str | None = None) -> Event:
    return Event(id=event_id, run_id="r1", batch_id="b1", pair_id="p1", annotator=annotator, action=action,
                 reason="still_leaks" if action == "reject" else None, edited_query=query, new_leak_score=0.1,
                 previous_action=None, previous_reason=None, previous_query=None, at=at, source=source,
                 request_id=None, override_reason=override)


def test_two_different_edits_are_a_conflict_that_ships_nothing_until_the_lead_names_the_text():
    bob = a_label(1, "bob", "edit", "bob's edit?")
    ann = a_label(2, "ann", "edit", "ann's edit?", source="labelstudio")
    assert review_state(ITEM, [bob, ann]) == "conflict" and shipped_edit(ITEM, [bob, ann]) is None
    refusal = plain_accept_refusal(ITEM, [bob, ann])
    assert "ship different texts" in refusal and "--accept-edit NAME" in refusal and "\"ann's edit?\"" in refusal
    # the lead's --accept-edit ann: an adjudicator's edit to ann's text, which ships with ann's re-check
    chosen = a_label(3, "adjudicator:lead", "edit", edit_of("ann", [bob, ann]).edited_query, source=ADJUDICATION)
    assert review_state(ITEM, [bob, ann, chosen]) == "accepted"
    assert shipped_edit(ITEM, [bob, ann, chosen]) is ann
    with pytest.raises(ValueError, match="cy has no edit on this pair \\(edits by: ann, bob\\)"):
        edit_of("cy", [bob, ann])


def test_an_overridden_edit_beside_an_accept_is_a_conflict():
    ann = a_label(1, "ann", "edit", "a leaky edit?", override="the knife is the point")
    bob = a_label(2, "bob", "accept")
    assert review_state(ITEM, [ann, bob]) == "conflict" and shipped_edit(ITEM, [ann, bob]) is None
    assert plain_accept_refusal(ITEM, [ann, bob]) is not None
    # alone, one annotator's overridden edit is that annotator's review of the pair
    assert review_state(ITEM, [ann]) == "accepted" and shipped_edit(ITEM, [ann]) is ann


def test_the_same_edit_twice_ships_and_the_one_made_last_carries_it():
    # bob's app edit was recorded first; ann's Label Studio annotation, imported later, was made earlier
    bob = a_label(1, "bob", "edit", "the same edit?", at="2026-12-05T13:00:10.000+00:00")
    ann = a_label(2, "ann", "edit", "the same edit?", at="2026-12-05T12:59:50.000+00:00", source="labelstudio")
    assert review_state(ITEM, [bob, ann]) == "accepted" and shipped_edit(ITEM, [bob, ann]) is bob
    assert plain_accept_refusal(ITEM, [bob, ann]) is None


def test_an_adjudicators_plain_accept_ships_the_one_accepted_text():
    ann = a_label(1, "ann", "edit", "ann's edit?")
    bob = a_label(2, "bob", "reject")
    assert plain_accept_refusal(ITEM, [ann, bob]) is None
    settled = a_label(3, "adjudicator:lead", "accept", source=ADJUDICATION)
    assert shipped_edit(ITEM, [ann, bob, settled]) is ann
