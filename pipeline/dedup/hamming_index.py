"""Exact Hamming-distance search over 64-bit hashes, fast enough for millions.

Multi-index hashing: cut each hash into 16 nibbles. Two hashes within
distance t differ in at most t nibbles, so they agree exactly on every key
built only from the other nibbles. `key_plan` picks a family of k-nibble keys
such that *any* t spoilt nibbles leave at least one key whole, which makes the
search exact (no missed pairs), not probabilistic. Per key we sort, pair up
equal keys, and verify every candidate with a popcount, so false candidates
never reach the output.

k comes from the set size: keys of about log2(n) bits keep the chance
collisions per key near n/2 while keeping the number of keys small (for
t = 8 and a million hashes: 210 keys of 20 bits).
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import combinations

import numpy as np

NIBBLES = 16
_LOW32 = np.uint64(0xFFFFFFFF)


@lru_cache(maxsize=None)
def key_plan(key_nibbles: int, max_distance: int) -> tuple[tuple[int, ...], ...]:
    """Sets of `key_nibbles` nibble positions such that every `max_distance`
    spoilt nibbles miss at least one set entirely. Greedy set cover, deterministic."""
    spoilt = np.array([_bitmask(c) for c in combinations(range(NIBBLES), max_distance)], np.uint16)
    candidates = list(combinations(range(NIBBLES), key_nibbles))
    keys = np.array([_bitmask(c) for c in candidates], np.uint16)
    # spoilt set x key; rows, so that covering a few spoilt sets reads only their rows
    survives = (spoilt[:, None] & keys[None, :]) == 0
    gains = survives.sum(axis=0)
    uncovered = np.ones(len(spoilt), dtype=bool)
    chosen = []
    while uncovered.any():
        best = int(np.argmax(gains))
        newly = survives[:, best] & uncovered
        gains -= survives[newly].sum(axis=0)
        uncovered &= ~newly
        chosen.append(candidates[best])
    return tuple(chosen)


def pairs_within(hashes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs i < j with Hamming(hashes[i], hashes[j]) <= max_distance,
    as (i, j, distance) int64 arrays sorted by (i, j)."""
    hashes = _as_hashes(hashes)
    nibbles = _nibble_rows(hashes)
    found = []
    for key in key_plan_for(len(hashes), max_distance):
        sorted_keys, order = _sorted_keys(nibbles, key)
        left, right = _equal_neighbours(sorted_keys)
        i, j = order[left], order[right]
        found.append(_verified(hashes[i] ^ hashes[j], i, j, max_distance))
    i, j = _merged(found, len(hashes), unordered=True)
    return i, j, _distance(hashes[i], hashes[j])


def pairs_across(queries: np.ndarray, reference: np.ndarray, max_distance: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (q, r, distance) with Hamming(queries[q], reference[r]) <= max_distance,
    e.g. new hashes against earlier releases. Sorted by (q, r)."""
    queries, reference = _as_hashes(queries), _as_hashes(reference)
    query_nibbles, reference_nibbles = _nibble_rows(queries), _nibble_rows(reference)
    found = []
    if len(queries) and len(reference):
        for key in key_plan_for(len(queries) + len(reference), max_distance):
            sorted_keys, order = _sorted_keys(reference_nibbles, key)
            query_keys = _compact_key(query_nibbles, key)
            lo = np.searchsorted(sorted_keys, query_keys, side="left")
            hi = np.searchsorted(sorted_keys, query_keys, side="right")
            q, position = _expand_ranges(lo, hi)
            r = order[position]
            found.append(_verified(queries[q] ^ reference[r], q, r, max_distance))
    q, r = _merged(found, len(reference), unordered=False)
    return q, r, _distance(queries[q], reference[r])


def key_plan_for(n: int, max_distance: int) -> tuple[tuple[int, ...], ...]:
    """The keys used for a search over n hashes (computed once per process)."""
    if not 0 <= max_distance < NIBBLES:
        raise ValueError(f"max_distance must be in 0..{NIBBLES - 1}, got {max_distance}")
    if n < 2:
        return ()
    key_nibbles = min(NIBBLES - max_distance, max(1, round(math.log2(n) / 4)))
    return key_plan(key_nibbles, max_distance)


def _nibble_rows(hashes: np.ndarray) -> np.ndarray:
    """(16, n) uint8: row p holds nibble p of every hash, so keys gather cheaply."""
    shifts = np.arange(0, 64, 4, dtype=np.uint64)[:, None]
    return ((hashes[None, :] >> shifts) & np.uint64(0xF)).astype(np.uint8)


def _compact_key(nibbles: np.ndarray, key: tuple[int, ...]) -> np.ndarray:
    packed = np.zeros(nibbles.shape[1], dtype=np.uint32)
    for position in key:
        packed <<= 4
        packed |= nibbles[position]
    return packed


def _sorted_keys(nibbles: np.ndarray, key: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys and the item order. Sorting key<<32 | index as one uint64
    is several times faster than an argsort."""
    index = np.arange(nibbles.shape[1], dtype=np.uint64)
    packed = np.sort(_compact_key(nibbles, key).astype(np.uint64) << np.uint64(32) | index)
    return (packed >> np.uint64(32)).astype(np.uint32), (packed & _LOW32).astype(np.intp)


def _equal_neighbours(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (p, p + d) with equal sorted keys. Step d only revisits positions
    that matched at d - 1, so the work is n plus the number of pairs."""
    left, right = [], []
    active = np.flatnonzero(sorted_keys[:-1] == sorted_keys[1:])
    step = 1
    while len(active):
        left.append(active)
        right.append(active + step)
        step += 1
        active = active[active + step < len(sorted_keys)]
        active = active[sorted_keys[active] == sorted_keys[active + step]]
    if not left:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    return np.concatenate(left), np.concatenate(right)


def _expand_ranges(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, position) for every position in [starts[owner], stops[owner])."""
    counts = stops - starts
    owners = np.flatnonzero(counts)
    counts = counts[owners]
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(owners, counts), np.repeat(starts[owners], counts) + offsets


def _verified(xor: np.ndarray, i: np.ndarray, j: np.ndarray, max_distance: int):
    keep = np.bitwise_count(xor) <= max_distance
    return i[keep], j[keep]


def _merged(found: list, n_right: int, *, unordered: bool) -> tuple[np.ndarray, np.ndarray]:
    """One row per pair, however many keys found it."""
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    i = np.concatenate([f[0] for f in found]).astype(np.int64)
    j = np.concatenate([f[1] for f in found]).astype(np.int64)
    if unordered:
        i, j = np.minimum(i, j), np.maximum(i, j)
    codes = np.unique(i * n_right + j)
    return codes // n_right, codes % n_right


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.bitwise_count(a ^ b).astype(np.int64)


def _as_hashes(hashes) -> np.ndarray:
    return np.ascontiguousarray(hashes, dtype=np.uint64).reshape(-1)


def _bitmask(positions) -> int:
    return sum(1 << p for p in positions)
