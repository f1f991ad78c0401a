"""Both hash limits are inclusive: two images exactly `max_phash` and `max_dhash` bits apart are one image;
a bit more on either side and they are two."""

from __future__ import annotations

import numpy as np

from pipeline.dedup import find_image_duplicates

EIGHT_BITS, NINE_BITS = 0xFF, 0x1FF


def test_images_exactly_at_both_limits_cluster():
    hashes = np.array([[0, 0], [EIGHT_BITS, EIGHT_BITS]], dtype=np.uint64)
    assert find_image_duplicates(["a", "b"], hashes, max_phash=8, max_dhash=8).drop_ids == {"b"}


def test_images_one_bit_past_either_limit_do_not_cluster():
    past_dhash = np.array([[0, 0], [EIGHT_BITS, NINE_BITS]], dtype=np.uint64)
    past_phash = np.array([[0, 0], [NINE_BITS, EIGHT_BITS]], dtype=np.uint64)
    assert not find_image_duplicates(["a", "b"], past_dhash, max_phash=8, max_dhash=8).drop_ids
    assert not find_image_duplicates(["a", "b"], past_phash, max_phash=8, max_dhash=8).drop_ids
