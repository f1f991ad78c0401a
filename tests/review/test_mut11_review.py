"""mut11: one-line comparison of queries where an older store holds a CRLF edit, in the importer's
adjudication paths, the plain-accept text, and Label Studio's unchanged re-import."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from pipeline.review.agreement import adjudication_stands
from pipeline.review.decisions import ADJUDICATION, DecisionIn, Event, same_query
from pipeline.review.importer import (edit_shipping, plain_accept_refusal, plain_accept_text, shipped_edit,
                                      standing_adjudication)
from pipeline.review.labelstudio_import import unchanged_since

QUERY = "Is it doable to turn a peaceful march into the street scene pictured?"
ITEM = SimpleNamespace(instruction=QUERY, pair_id="p1")


def event(i, annotator, action, edited=None, source="web", reason=None, at="t"):
    return Event(id=i, run_id="r", batch_id="r-b000", pair_id="p1", annotator=annotator, action=action,
                 reason=reason, edited_query=edited, new_leak_score=0.1, previous_action=None, previous_reason=None,
                 previous_query=None, at=at, source=source, request_id=None)


def adjudicated_old_crlf_edit():
    """ann's edit as an older store holds it (CRLF), the adjudicator's --accept-edit of it stored as one line."""
    return [event(1, "ann", "edit", "Other text?\r\n"), event(2, "bob", "reject", reason="not_harmful"),
            event(3, "judge", "edit", "Other text?", source=ADJUDICATION)]


def test_an_adjudication_of_an_older_crlf_edit_stands_and_ships_that_edit():
    events = adjudicated_old_crlf_edit()
    assert adjudication_stands(events[2], events, QUERY)
    assert standing_adjudication(ITEM, events) is events[2]
    assert shipped_edit(ITEM, events) is events[0]
    assert edit_shipping(ITEM, events, "Other text?") is events[0]


def test_an_adjudicated_edit_that_is_the_pipelines_query_plus_crlf_stands():
    events = [event(1, "ann", "reject", reason="not_harmful"),
              event(2, "judge", "edit", QUERY + "\r\n", source=ADJUDICATION)]
    assert adjudication_stands(events[1], events, QUERY)


def test_two_accepting_labels_whose_edits_differ_only_by_a_line_break_ship_one_text():
    events = [event(1, "ann", "edit", "Other text?\r\n"), event(2, "bob", "edit", "Other  text?")]
    assert plain_accept_refusal(ITEM, events) is None
    assert plain_accept_text(ITEM, events) == "Other text?"


def test_a_plain_accept_ships_the_pipelines_query_exactly_as_it_is():
    item = SimpleNamespace(instruction="How do  I do this?", pair_id="p1")
    assert plain_accept_text(item, [event(1, "ann", "accept")]) == "How do  I do this?"


def test_two_missing_queries_are_the_same_query():
    assert same_query(None, None) and not same_query(None, "x")


def test_a_label_studio_reimport_is_unchanged_only_with_the_same_reason():
    accept = DecisionIn(batch_id="r-b000", pair_id="p1", action="accept")
    assert unchanged_since(event(1, "ann", "accept", source="labelstudio"), accept)
    reject = DecisionIn(batch_id="r-b000", pair_id="p1", action="reject", reason="not_harmful")
    previous = event(1, "ann", "reject", reason="still_leaks", source="labelstudio")
    assert reject.reason != previous.reason and not unchanged_since(previous, reject)


def test_an_edit_of_only_whitespace_is_refused():
    with pytest.raises(ValidationError, match="an edit needs the edited query"):
        DecisionIn(batch_id="r-b000", pair_id="p1", action="edit", edited_query=" \r\n  ")
