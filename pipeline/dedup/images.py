"""Image near-duplicates by perceptual hashes (pHash and dHash, 64 bits each).

pHash (DCT) survives resizing, recompression and mild colour changes; dHash
(gradient signs) is cheap and catches crops pHash is lenient on. By default a
pair must be close under both, which keeps false merges of merely similar
compositions rare; `require_both=False` accepts either.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import imagehash
import numpy as np
from PIL import Image

from pipeline.dedup.clusters import DedupResult, cluster_duplicates
from pipeline.dedup.hamming_index import pairs_across, pairs_within
from pipeline.images.checks import without_bomb_warning

PHASH, DHASH = 0, 1  # columns of a hash table


def image_hashes(pngs: Sequence[bytes]) -> np.ndarray:
    """(n, 2) uint64: pHash and dHash of each image."""
    table = np.zeros((len(pngs), 2), dtype=np.uint64)
    # A pool photo the build took (under Pillow's refusal limit) is hashed again at release and verify.
    with without_bomb_warning():
        for row, png in enumerate(pngs):
            with Image.open(io.BytesIO(png)) as image:
                image.load()
                table[row] = pack_hash(imagehash.phash(image)), pack_hash(imagehash.dhash(image))
    return table


def pack_hash(image_hash: imagehash.ImageHash) -> np.uint64:
    """An 8x8 imagehash as one uint64 whose popcount distances match imagehash's."""
    return np.packbits(image_hash.hash.flatten()).view(">u8")[0].astype(np.uint64)


def find_image_duplicates(ids: Sequence[str], hashes: np.ndarray, *,
                          earlier_ids: Sequence[str] = (), earlier_hashes: np.ndarray | None = None,
                          max_phash: int = 8, max_dhash: int = 8, require_both: bool = True,
                          priority: Sequence[float] | None = None) -> DedupResult:
    """Cluster this run's images with each other and with earlier releases.

    `hashes` and `earlier_hashes` are (n, 2) tables from `image_hashes`.
    Row distances are pHash bits to the cluster's keeper.
    """
    earlier = np.zeros((0, 2), np.uint64) if earlier_hashes is None else np.asarray(earlier_hashes, np.uint64)
    current = np.asarray(hashes, np.uint64).reshape(-1, 2)
    if len(earlier) != len(earlier_ids) or len(current) != len(ids):
        raise ValueError("each id needs exactly one hash row")
    everything = np.concatenate([earlier, current])
    limits = {PHASH: max_phash, DHASH: max_dhash}

    searched = [PHASH] if require_both else [PHASH, DHASH]
    left, right = [], []
    for column in searched:
        i, j, _ = pairs_within(current[:, column], limits[column])
        q, r, _ = pairs_across(current[:, column], earlier[:, column], limits[column])
        left += [i + len(earlier), q + len(earlier)]
        right += [j + len(earlier), r]
    left, right = np.concatenate(left), np.concatenate(right)
    if require_both:  # the pHash search found candidates; dHash must agree too
        close = _distance(everything, left, right, DHASH) <= max_dhash
        left, right = left[close], right[close]

    joiner = " & " if require_both else " | "
    method = f"phash<={max_phash}{joiner}dhash<={max_dhash}"

    def describe(members: np.ndarray, keepers: np.ndarray):
        return _distance(everything, members, keepers, PHASH), [method] * len(members)

    return cluster_duplicates([*earlier_ids, *ids], len(earlier), left, right,
                              kind="image", describe=describe, priority=priority)


def _distance(table: np.ndarray, left: np.ndarray, right: np.ndarray, column: int) -> np.ndarray:
    return np.bitwise_count(table[left, column] ^ table[right, column])
