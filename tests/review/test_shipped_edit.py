"""Which annotator's edit an accepted pair ships."""

from __future__ import annotations

from types import SimpleNamespace

from pipeline.review.importer import shipped_edit
from pipeline.review.store import Event


def an_edit(event_id: int, annotator: str, query: str, at: str, source: str = "web") -> Event:
    return Event(id=event_id, run_id="r1", batch_id="b1", pair_id="p1", annotator=annotator, action="edit",
                 reason=None, edited_query=query, new_leak_score=0.1, previous_action=None, previous_reason=None,
                 previous_query=None, at=at, source=source, request_id=None)


def test_the_edit_made_last_ships_whatever_order_it_was_recorded_in():
    item = SimpleNamespace(instruction="the pipeline's query?")
    # bob's app edit was recorded first; ann's Label Studio annotation, imported later, was made earlier
    bob = an_edit(1, "bob", "bob's later edit?", "2026-12-05T13:00:10.000+00:00")
    ann = an_edit(2, "ann", "ann's earlier edit?", "2026-12-05T12:59:50.000+00:00", source="labelstudio")
    assert shipped_edit(item, [bob, ann]) is bob
    # the same time: the later record wins
    twin = an_edit(3, "cy", "cy's edit?", bob.at)
    assert shipped_edit(item, [bob, ann, twin]) is twin
