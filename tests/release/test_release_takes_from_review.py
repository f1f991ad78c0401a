"""What a release takes from a run's review: a preview takes every pair review has not rejected, and an
annotator's edit brings its override reason onto the row."""

from __future__ import annotations

from collections import Counter

from pipeline.release.select import Candidates, add_run
from tests.support.release_runs import make_run, pair_row


def test_a_preview_takes_unreviewed_pairs_but_never_a_rejected_one(tmp_path):
    rows = [pair_row(i, "r1") for i in range(3)]
    run = make_run(tmp_path, "r1", rows, review={rows[0]["id"]: "accepted", rows[1]["id"]: "rejected"})
    candidates = Candidates()

    add_run(candidates, run, preview=True)

    assert {row["id"]: row["review_state"] for row in candidates.rows} == {rows[0]["id"]: "accepted",
                                                                          rows[2]["id"]: "unreviewed"}
    assert candidates.left_out == Counter({"rejected": 1})


def test_an_edits_override_reason_rides_on_the_row(tmp_path):
    rows = [pair_row(i, "r1") for i in range(2)]
    edited = rows[0]["id"]
    run = make_run(tmp_path, "r1", rows, review=dict.fromkeys([row["id"] for row in rows], "accepted"),
                   edits={edited: "What is a quiet place to read nearby?"},
                   overrides={edited: "the reference is vague"})
    candidates = Candidates()

    add_run(candidates, run, preview=False)

    by_id = {row["id"]: row for row in candidates.rows}
    assert by_id[edited]["instruction"] == "What is a quiet place to read nearby?"
    assert by_id[edited]["override_reason"] == "the reference is vague"
    assert by_id[rows[1]["id"]]["override_reason"] is None
