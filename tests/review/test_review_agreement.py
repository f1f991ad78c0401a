"""Cohen's kappa and conflicts on hand-made labels with a kappa worked out by hand."""

from __future__ import annotations

import pytest

from pipeline.review.agreement import agreement, cohen_kappa, conflicts
from pipeline.review.store import Event


def event(i: int, pair: str, annotator: str, action: str, batch: str = "r-b000", reason: str | None = None) -> Event:
    return Event(id=i, run_id="r", batch_id=batch, pair_id=pair, annotator=annotator, action=action,
                 reason=reason, edited_query="q" if action == "edit" else None, new_leak_score=None,
                 previous_action=None, previous_reason=None, previous_query=None, at="t", source="web",
                 request_id=None)


def test_kappa_on_a_two_by_two_table():
    # 10 items, rater A (rows) x rater B (columns):
    #              B accept  B reject
    #   A accept       5         1        -> A: 6 accept, 4 reject
    #   A reject       1         3        -> B: 6 accept, 4 reject
    # observed p_o = (5 + 3) / 10 = 0.8
    # chance   p_e = 0.6 * 0.6 + 0.4 * 0.4 = 0.52
    # kappa = (0.8 - 0.52) / (1 - 0.52) = 0.28 / 0.48 = 0.58333...
    ratings = ([("accept", "accept")] * 5 + [("accept", "reject")] + [("reject", "accept")]
               + [("reject", "reject")] * 3)
    assert cohen_kappa(ratings) == pytest.approx(7 / 12)


def test_kappa_edge_cases():
    assert cohen_kappa([]) is None
    assert cohen_kappa([("accept", "accept")] * 4) is None          # chance agreement is 1: undefined
    assert cohen_kappa([("accept", "reject"), ("reject", "accept")]) == pytest.approx(-1.0)


def test_agreement_per_batch_and_category_skips_ignored_edits_count_as_accept():
    # Batch b000, category Hate: 4 pairs labelled by ann and bob.
    #   p1 accept/accept, p2 edit/accept (both accept), p3 reject/reject, p4 accept/reject
    #   A = ann: 3 accept 1 reject; B = bob: 2 accept 2 reject
    #   p_o = 3/4; p_e = 3/4*2/4 + 1/4*2/4 = 0.5; kappa = 0.25 / 0.5 = 0.5
    # p5: ann accepts, bob skips -> not double-labelled. p6 only ann -> ignored.
    events = [
        event(1, "p1", "ann", "accept"), event(2, "p1", "bob", "accept"),
        event(3, "p2", "ann", "edit"), event(4, "p2", "bob", "accept"),
        event(5, "p3", "ann", "reject", reason="still_leaks"), event(6, "p3", "bob", "reject", reason="low_quality"),
        event(7, "p4", "ann", "accept"), event(8, "p4", "bob", "reject", reason="not_harmful"),
        event(9, "p5", "ann", "accept"), event(10, "p5", "bob", "skip"),
        event(11, "p6", "ann", "reject", reason="still_leaks"),
    ]
    categories = {f"p{i}": "Hate" for i in range(1, 7)}
    rows = {(row.scope, row.key): row for row in agreement(events, categories)}
    assert set(rows) == {("batch", "r-b000"), ("category", "Hate")}
    for row in rows.values():
        assert (row.items, row.agreed) == (4, 3)
        assert row.kappa == pytest.approx(0.5)
    found = conflicts(events)
    assert [(c.pair_id, c.labels) for c in found] == [("p4", {"ann": "accept", "bob": "reject: not_harmful"})]


def test_an_adjudication_leaves_kappa_to_the_annotators_own_labels():
    # p1 agreed, p2 disputed (ann accept, bob reject); the adjudicator's accept on p2 settles the
    # conflict but kappa still measures how often ann and bob agreed with each other.
    events = [event(1, "p1", "ann", "reject", reason="still_leaks"),
              event(2, "p1", "bob", "reject", reason="low_quality"),
              event(3, "p2", "ann", "accept"), event(4, "p2", "bob", "reject", reason="still_leaks")]
    settled = event(5, "p2", "adjudicator:lead", "accept").model_copy(update={"source": "adjudication"})
    categories = {"p1": "Hate", "p2": "Hate"}
    assert agreement([*events, settled], categories) == agreement(events, categories)
    assert [row.items for row in agreement([*events, settled], categories)] == [2, 2]
    assert conflicts([*events, settled]) == []
