"""A decision keeps only the fields its action uses (mutation round 3): a reason only on a reject, an
edited query and an override reason only on an edit, however the form or the Label Studio annotation
that sent it was filled in."""

from __future__ import annotations

import pytest

from tests.review.test_review_labelstudio import choice, edit

from pipeline.review.decisions import DecisionIn
from pipeline.review.forms import decision_of
from pipeline.review.labelstudio_annotations import annotation_decision

FILLED_IN = {"reason": "low_quality", "edited_query": "what is this for?", "override_reason": "vague enough"}


@pytest.mark.parametrize("action", ["accept", "skip"])
def test_an_accept_or_skip_keeps_no_reason_edit_or_override(action):
    decision = DecisionIn(batch_id="b", pair_id="p", action=action, **FILLED_IN)

    assert (decision.reason, decision.edited_query, decision.override_reason) == (None, None, None)


def test_an_edit_keeps_its_query_and_override_but_no_reason():
    decision = DecisionIn(batch_id="b", pair_id="p", action="edit", **FILLED_IN)

    assert (decision.reason, decision.edited_query, decision.override_reason) == (
        None, "what is this for?", "vague enough")


def test_a_reject_keeps_its_reason_alone():
    decision = DecisionIn(batch_id="b", pair_id="p", action="reject", **FILLED_IN)

    assert (decision.reason, decision.edited_query, decision.override_reason) == ("low_quality", None, None)


def test_an_accept_posted_with_a_reason_still_selected_records_no_reason():
    """A form can post a reason and an override beside an accept (a menu left set, a hand-made post)."""
    decision = decision_of({"action": "accept", "reason": "still_leaks", "override": "1",
                            "override_reason": "why not"}, "b", "p")

    assert (decision.action, decision.reason, decision.override_reason) == ("accept", None, None)


def test_a_label_studio_accept_with_a_reason_records_no_reason():
    """Label Studio hides the reason unless reject is chosen, but an API client can send one."""
    exported = {"id": 1, "data": {"batch_id": "b", "pair_id": "p", "query": "what is on the table?"}}
    annotation = {"id": 2, "result": [choice("verdict", "accept"), choice("reason", "not_harmful"),
                                      edit("what is on the table?")]}

    decision, note = annotation_decision(exported, annotation)

    assert (decision.action, decision.reason, decision.edited_query, note) == ("accept", None, None, None)


@pytest.mark.parametrize("verdict", ["accept", "reject"])
def test_a_label_studio_edit_that_only_adds_a_line_break_changes_nothing(verdict):
    """A Return typed in Label Studio's text area is no edit: an accept stays an accept, and a
    reject gets no note about an edited query it did not use."""
    exported = {"id": 1, "data": {"batch_id": "b", "pair_id": "p", "query": "what is on  the table?"}}
    annotation = {"id": 2, "result": [choice("verdict", verdict), choice("reason", "not_harmful"),
                                      edit("what is on the\r\ntable?\r\n")]}

    decision, note = annotation_decision(exported, annotation)

    assert (decision.action, decision.edited_query, note) == (verdict, None, None)
