"""summary.md's and the card's "pairs ended": a whole seed's end takes the pairs it had drafted that
nothing else ended, never a negative number, and a seed that ended before drafting ended no pair."""

from __future__ import annotations

from collections import Counter

from pipeline.summary import FAILURE_CODE, pairs_ended

IMAGE_FAILED = ("image", FAILURE_CODE, "s1", "s1")  # a seed's end: its id as the item


def test_a_seeds_end_after_more_pair_ends_than_its_draft_held_ends_no_pair():
    """The drafts checkpoint says 1 pair, yet 2 of the seed's pairs were dropped one by one (a
    checkpoint older than a resumed stage): the seed's failure ends 0 pairs, not -1."""
    ends = [("leak_filter", "leak.reveal", "p1", "s1"), ("leak_filter", "leak.reveal", "p2", "s1"), IMAGE_FAILED]
    counts = pairs_ended(ends, {"s1": 1}, Counter())
    assert counts[("image", FAILURE_CODE)].pairs == 0
    assert counts[("leak_filter", "leak.reveal")].pairs == 2


def test_a_seed_whose_draft_was_not_kept_ends_pairs_unknown_unless_it_ended_before_drafting():
    counts = pairs_ended([("seed", FAILURE_CODE, "s1", "s1"), ("image", FAILURE_CODE, "s2", "s2")], {}, Counter())
    assert counts[("seed", FAILURE_CODE)].pairs == 0   # no draft yet: nothing to end
    assert counts[("image", FAILURE_CODE)].pairs is None  # drafted, but how many is not known
