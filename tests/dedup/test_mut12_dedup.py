"""mut12: dedup survivors pinned (a new image matching an earlier release at another index; three
items sharing every key)."""

from itertools import combinations

import numpy as np

from pipeline.dedup import find_image_duplicates
from pipeline.dedup.hamming_index import pairs_within

A, B, C = 0x0123456789ABCDEF, 0xF0E1D2C3B4A59687, 0x5A5A5A5A0F0F0F0F


def test_a_new_image_matching_an_earlier_one_at_another_index_is_dropped():
    # the earlier copy is at index 1 of the earlier ones, the new one at index 0 of the new ones
    new = np.array([[A ^ 1, A ^ 2], [C, C]], dtype=np.uint64)
    earlier = np.array([[B, B], [A, A]], dtype=np.uint64)
    result = find_image_duplicates(["new-a", "new-c"], new, earlier_ids=["r1-b", "r1-a"], earlier_hashes=earlier)
    assert result.drop_ids == {"new-a"}
    dropped = next(row for row in result.clusters if row.item_id == "new-a")
    assert dropped.duplicate_of == "r1-a"


def test_three_identical_hashes_give_all_three_pairs():
    hashes = np.array([A, A, A, B], dtype=np.uint64)
    i, j, d = pairs_within(hashes, 0)
    assert set(zip(i.tolist(), j.tolist())) == set(combinations(range(3), 2))


def test_many_items_sharing_a_key_match_brute_force():
    # low-entropy hashes: many share each key, so equal keys come in runs longer than two
    rng = np.random.default_rng(3)
    hashes = (rng.integers(0, 4, 300).astype(np.uint64) * np.uint64(0x1111)) ^ rng.integers(0, 2, 300).astype(np.uint64)
    i, j, _ = pairs_within(hashes, 2)
    truth = {(a, b) for a, b in combinations(range(len(hashes)), 2)
             if int(np.bitwise_count(hashes[a] ^ hashes[b])) <= 2}
    assert set(zip(i.tolist(), j.tolist())) == truth
