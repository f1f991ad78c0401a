"""A scope whose pairs different annotators labelled (a category over batches with different
annotator pairs, a pair labelled three times) gets Fleiss' kappa, which no annotator's name can
change; a scope one fixed pair of annotators labelled keeps Cohen's kappa between the two."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.review.agreement import COHEN, FLEISS, agreement, fleiss_kappa
from pipeline.review.batches import export_batches
from pipeline.review.decisions import DecisionIn
from pipeline.review.store import ReviewStore
from tests.review.test_review_agreement import event, pipeline_queries
from tests.support.review_runs import make_run

# Fleiss (1971) as Wikipedia's "Fleiss' kappa" article works it: 10 subjects, 14 raters each, 5
# categories (counts per category); P-bar = 0.378, P_e = 0.213, kappa = 0.210.
WORKED = [(0, 0, 0, 0, 14), (0, 2, 6, 4, 2), (0, 0, 3, 5, 6), (0, 3, 9, 2, 0), (2, 2, 8, 1, 1),
          (7, 7, 0, 0, 0), (3, 2, 6, 3, 0), (2, 5, 3, 2, 2), (6, 5, 2, 1, 0), (0, 2, 2, 3, 7)]


def test_fleiss_kappa_matches_the_worked_example():
    items = [[label for label, count in zip("ABCDE", counts) for _ in range(count)] for counts in WORKED]
    assert fleiss_kappa(items) == pytest.approx(0.20993, abs=1e-5)


def test_fleiss_kappa_with_a_varying_number_of_raters_and_its_edge_cases():
    # [a, a, a]: agreement 1; [a, r]: 0 -> P-bar 0.5; labels a 4 of 5, r 1 of 5 -> P_e = 17/25
    # kappa = (0.5 - 0.68) / 0.32 = -0.5625
    assert fleiss_kappa([["a", "a", "a"], ["a", "r"]]) == pytest.approx(-0.5625)
    assert fleiss_kappa([]) is None and fleiss_kappa([["a"]]) is None
    assert fleiss_kappa([["a", "a"], ["a", "a", "a"]]) is None          # one label throughout: undefined


def category_rows(third: str):
    """bX: ann accepts, bob rejects; bY: bob accepts, `third` rejects; both pairs in category C."""
    events = [event(1, "p1", "ann", "accept", batch="bX"), event(2, "p1", "bob", "reject", batch="bX"),
              event(3, "p2", "bob", "accept", batch="bY"), event(4, "p2", third, "reject", batch="bY")]
    return {(row.scope, row.key): row for row in agreement(events, {"p1": "C", "p2": "C"},
                                                           pipeline_queries("p1", "p2"))}


def test_a_category_mixing_annotator_pairs_does_not_depend_on_their_names():
    named_cy, named_aa = category_rows("cy"), category_rows("aa")
    assert named_cy[("category", "C")] == named_aa[("category", "C")]
    row = named_cy[("category", "C")]
    # two pairs, each split: P-bar 0; accept 2 of 4, reject 2 of 4 -> P_e 0.5; kappa -1
    assert (row.items, row.agreed, row.statistic) == (2, 0, FLEISS) and row.kappa == pytest.approx(-1.0)
    assert named_cy[("batch", "bX")].statistic == COHEN           # one fixed pair of annotators each


def test_one_fixed_pair_of_annotators_keeps_cohens_kappa_and_a_third_label_makes_it_fleiss():
    events = [event(1, "p1", "ann", "accept"), event(2, "p1", "bob", "accept"),
              event(3, "p2", "ann", "accept"), event(4, "p2", "bob", "reject")]
    categories, queries = {"p1": "C", "p2": "C"}, pipeline_queries("p1", "p2")
    # Cohen: p_o 1/2; ann 2 accept, bob 1 accept 1 reject -> p_e = (2*1 + 0*1) / 4 = 1/2 -> kappa 0
    for row in agreement(events, categories, queries):
        assert (row.items, row.agreed, row.statistic) == (2, 1, COHEN) and row.kappa == pytest.approx(0.0)
    # cy labels p1 too: [accept x3] agrees (1), [accept, reject] does not (0) -> P-bar 1/2;
    # accept 4 of 5 -> P_e 17/25 -> kappa -0.5625 (the first two names alone would have said 0)
    rows = agreement([*events, event(5, "p1", "cy", "accept")], categories, queries)
    for row in rows:
        assert (row.items, row.agreed, row.statistic) == (2, 1, FLEISS) and row.kappa == pytest.approx(-0.5625)


def test_review_status_names_the_statistic_of_each_kappa(tmp_path):
    export_batches(make_run(tmp_path, pairs=3), batch_size=3, overlap=1.0, annotators=["ann", "bob"])
    store = ReviewStore.for_runs(tmp_path)
    for name, action in (("ann", "accept"), ("bob", "accept")):
        store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0001", action=action), annotator=name, run_id="fake")
    shown = CliRunner().invoke(app, ["review", "status", "fake", "--runs-dir", str(tmp_path)], env={"COLUMNS": "200"})
    table = shown.stdout.split("Agreement")[1].split("Conflicts")[0]
    assert "statistic" in table
    assert [line.split("│")[-2].strip() for line in table.splitlines() if "fake-b000" in line] == [COHEN]
