"""The card's review counts read every pair of the runs: a pair the review snapshot does not hold is
`unreviewed`, as a release reads it (a preview takes it), so taken and not taken add up to the runs' pairs."""

from __future__ import annotations

from collections import Counter

from pipeline.release.card_sources import run_review_states
from tests.support.release_runs import make_run, pair_row


def test_a_pair_the_review_snapshot_does_not_hold_counts_as_unreviewed(tmp_path):
    rows = [pair_row(i, "r1") for i in range(4)]
    reviewed = make_run(tmp_path / "runs", "r1", rows, review={"r1-pair000": "accepted", "r1-pair001": "rejected"})
    never_reviewed = make_run(tmp_path / "runs", "r2", [pair_row(9, "r2")])

    assert run_review_states([reviewed, never_reviewed]) == Counter(accepted=1, rejected=1, unreviewed=3)
