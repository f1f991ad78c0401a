"""Cohen's kappa and conflicts on hand-made labels with a kappa worked out by hand."""

from __future__ import annotations

import pytest

from pipeline.review.agreement import agreement, cohen_kappa, conflicts
from pipeline.review.decisions import Event


def event(i: int, pair: str, annotator: str, action: str, batch: str = "r-b000", reason: str | None = None,
          edited: str = "q", score: float | None = None, override: str | None = None) -> Event:
    return Event(id=i, run_id="r", batch_id=batch, pair_id=pair, annotator=annotator, action=action,
                 reason=reason, edited_query=edited if action == "edit" else None, new_leak_score=score,
                 previous_action=None, previous_reason=None, previous_query=None, at="t", source="web",
                 request_id=None, override_reason=override)


def pipeline_queries(*pairs: str) -> dict[str, str]:
    return {pair: f"the pipeline's query for {pair}?" for pair in pairs}


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


def test_agreement_per_batch_and_category_counts_the_same_decision_and_text():
    # Batch b000, category Hate: 4 pairs labelled by ann and bob.
    #   p1 accept/accept, p2 the same edit twice, p3 reject/reject (reasons may differ), p4 accept/reject
    #   categories: accept, edit "q", reject. A = ann: 2 accept, 1 edit, 1 reject; B = bob: 1 accept, 1 edit, 2 reject
    #   p_o = 3/4; p_e = (2*1 + 1*1 + 1*2) / 16 = 5/16; kappa = (12/16 - 5/16) / (11/16) = 7/11
    # p5: ann accepts, bob skips -> not double-labelled. p6 only ann -> ignored.
    events = [
        event(1, "p1", "ann", "accept"), event(2, "p1", "bob", "accept"),
        event(3, "p2", "ann", "edit"), event(4, "p2", "bob", "edit"),
        event(5, "p3", "ann", "reject", reason="still_leaks"), event(6, "p3", "bob", "reject", reason="low_quality"),
        event(7, "p4", "ann", "accept"), event(8, "p4", "bob", "reject", reason="not_harmful"),
        event(9, "p5", "ann", "accept"), event(10, "p5", "bob", "skip"),
        event(11, "p6", "ann", "reject", reason="still_leaks"),
    ]
    categories = {f"p{i}": "Hate" for i in range(1, 7)}
    queries = pipeline_queries(*categories)
    rows = {(row.scope, row.key): row for row in agreement(events, categories, queries)}
    assert set(rows) == {("batch", "r-b000"), ("category", "Hate")}
    for row in rows.values():
        assert (row.items, row.agreed) == (4, 3)
        assert row.kappa == pytest.approx(7 / 11)
    found = conflicts(events, queries)
    assert [(c.pair_id, c.labels) for c in found] == [("p4", {"ann": "accept", "bob": "reject: not_harmful"})]


def test_labels_that_would_ship_different_texts_are_conflicts_not_agreement():
    queries = pipeline_queries("p1", "p2", "p3", "p4")
    events = [
        # an edit beside an accept of the pipeline's query
        event(1, "p1", "ann", "edit", edited="Could I get this card to work at the shop till?", score=0.022),
        event(2, "p1", "bob", "accept"),
        # two different edits
        event(3, "p2", "ann", "edit", edited="ann's text?", score=0.1),
        event(4, "p2", "bob", "edit", edited="bob's text?", score=0.2),
        # an overridden edit, even beside the same text
        event(5, "p3", "ann", "edit", edited="leaky text?", score=0.647, override="the point of the pair"),
        event(6, "p3", "bob", "edit", edited="leaky text?", score=0.647),
        # an edit that leaves the pipeline's query as it was is an accept of it
        event(7, "p4", "ann", "edit", edited=queries["p4"], score=0.1), event(8, "p4", "bob", "accept"),
    ]
    found = {c.pair_id: c.labels for c in conflicts(events, queries)}
    assert found == {
        "p1": {"ann": 'edit: "Could I get this card to work at the shop till?" (leak 0.022)', "bob": "accept"},
        "p2": {"ann": 'edit: "ann\'s text?" (leak 0.100)', "bob": 'edit: "bob\'s text?" (leak 0.200)'},
        "p3": {"ann": 'edit: "leaky text?" (leak 0.647, override)', "bob": 'edit: "leaky text?" (leak 0.647)'},
    }
    (row, _) = agreement(events, {pair: "Hate" for pair in queries}, queries)
    assert (row.items, row.agreed) == (4, 1)


def test_an_adjudication_leaves_kappa_to_the_annotators_own_labels():
    # p1 agreed, p2 disputed (ann accept, bob reject); the adjudicator's accept on p2 settles the
    # conflict but kappa still measures how often ann and bob agreed with each other.
    events = [event(1, "p1", "ann", "reject", reason="still_leaks"),
              event(2, "p1", "bob", "reject", reason="low_quality"),
              event(3, "p2", "ann", "accept"), event(4, "p2", "bob", "reject", reason="still_leaks")]
    settled = event(5, "p2", "adjudicator:lead", "accept").model_copy(update={"source": "adjudication"})
    categories, queries = {"p1": "Hate", "p2": "Hate"}, pipeline_queries("p1", "p2")
    assert agreement([*events, settled], categories, queries) == agreement(events, categories, queries)
    assert [row.items for row in agreement([*events, settled], categories, queries)] == [2, 2]
    assert conflicts([*events, settled], queries) == []
