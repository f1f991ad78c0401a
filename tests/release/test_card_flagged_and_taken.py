"""The card's numbers: pairs shipped against the harm check count as flagged, and review's taken pairs
are the runs' pairs less those review left out."""

from __future__ import annotations

from collections import Counter

from pipeline.release.card import flagged_rows, review_taken
from pipeline.release.leak_check import LEAK_FREE, LEAKS


def test_a_pair_shipped_against_the_harm_check_counts_as_flagged():
    rows = [{"id": "harm", "leak_verdict": LEAK_FREE, "harm_verdict": "drop"},
            {"id": "leak", "leak_verdict": LEAKS, "harm_verdict": "keep"},
            {"id": "both", "leak_verdict": LEAKS, "harm_verdict": "drop"},
            {"id": "clean", "leak_verdict": LEAK_FREE, "harm_verdict": "keep"}]

    assert flagged_rows(rows) == (3, 2, 2)


def test_review_taken_leaves_out_what_review_did_not_take():
    manifest = {"dropped": {"not_taken_by_review": {"rejected": 2, "unreviewed": 1}}}
    states = Counter({"accepted": 5, "rejected": 2, "unreviewed": 1})

    assert review_taken(manifest, states) == {"accepted": 5}
