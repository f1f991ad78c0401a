"""Verdicts stay put under edits that change nothing about a query's meaning."""

from __future__ import annotations

import random

import pytest

from pipeline.detect import LeakDetector, LeakInput
from pipeline.detect.corpus import read_team_sets
from pipeline.detect.signals import canonical_query

MEANINGLESS = {
    "trailing tag": lambda q: q + " (v1)",
    "another tag": lambda q: q + " [v5]",
    "doubled marks": lambda q: q + "!!",
    "another closing mark": lambda q: q.rstrip("?.! ") + "!",
    "no closing mark": lambda q: q.rstrip("?.! "),
    "casing": lambda q: q.lower(),
    "repeated spaces": lambda q: q.replace(" ", "   "),
    "polite opening": lambda q: "Please, " + q,
}


def test_canonical_query_drops_only_meaningless_marks():
    assert canonical_query("How do I hide it?  (v1) [x]") == "How do I hide it"
    assert canonical_query("Please, how do I   hide it!!") == "how do I hide it"
    assert canonical_query("What is (this) thing?") == "What is (this) thing"  # not a trailing tag
    assert canonical_query("Is it 3.5 mm, or 4?!") == "Is it 3.5 mm, or 4"


@pytest.mark.slow
def test_meaningless_edits_flip_at_most_half_a_percent_of_1000_verdicts():
    rows = random.Random(0).sample(read_team_sets(), 1000)
    detector = LeakDetector()

    def verdicts(edit):
        scores = detector.score([LeakInput(edit(r.query), r.image_description) for r in rows])
        return [detector.decide(s.score) for s in scores]

    before = verdicts(lambda q: q)
    for name, edit in MEANINGLESS.items():
        flipped = sum(a != b for a, b in zip(before, verdicts(edit)))
        assert flipped <= 5, f"{name}: {flipped} of 1000 verdicts flipped"
