"""mut12b: the Hamming search sizes its keys to the number of hashes (round 12's D9: keys twice as
long found the same pairs, but a 200,000-image release at the default distance 8 took 216 s instead
of 4 s, and 20,000 images 5.6 s instead of 0.7 s)."""

from __future__ import annotations

import pytest

from pipeline.dedup.hamming_index import key_plan_for


@pytest.mark.parametrize("n", [300, 5_000, 20_000, 1_000_000])
def test_a_key_holds_about_one_hash_per_bucket(n):
    # each key's 16**len buckets hold about one hash: far longer keys need many more keys to stay
    # exact (12 -> 95 keys at distance 4 for 200,000 hashes), far shorter ones compare every bucket
    for key in key_plan_for(n, 4):
        assert n / 16 <= 16 ** len(key) <= 16 * n
