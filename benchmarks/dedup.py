"""Near-duplicate search over 1,000,000 64-bit hashes: multi-index hashing vs brute force.

Plants 1,000 near-duplicate pairs (Hamming distance 1..8) among random hashes;
random 64-bit hashes have almost no natural pairs that close, so the planted
ones are the ground truth at 1M. On a 100,000-hash subset (holding 100 of the
planted pairs) the full pair sets of the index and of brute force are compared,
and both are timed: the baseline is every pair's popcount over XORed row
chunks, in 2 processes; the index runs in one.

Run: python benchmarks/dedup.py
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time

import numpy as np

from pipeline.dedup.hamming_index import key_plan_for, pairs_within

N, SUBSET, PLANTED, IN_SUBSET, MAX_DISTANCE = 1_000_000, 100_000, 1_000, 100, 8
ROWS_PER_CHUNK = 128


def planted_hashes(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random hashes, and the planted (source, copy) pairs: the first IN_SUBSET
    pairs lie wholly inside the first SUBSET hashes, the rest outside it."""
    hashes = rng.integers(0, 2**64, N, dtype=np.uint64, endpoint=False)
    inside = rng.choice(SUBSET, 2 * IN_SUBSET, replace=False)
    outside = SUBSET + rng.choice(N - SUBSET, 2 * (PLANTED - IN_SUBSET), replace=False)
    pairs = np.concatenate([inside, outside]).reshape(-1, 2)
    for source, copy in pairs:
        flipped = rng.choice(64, size=int(rng.integers(1, MAX_DISTANCE + 1)), replace=False)
        hashes[copy] = hashes[source] ^ np.uint64(sum(1 << int(bit) for bit in flipped))
    return hashes, np.sort(pairs, axis=1)


_shared: np.ndarray | None = None  # the subset, inherited by the forked brute-force workers


def _brute_chunk(start: int) -> np.ndarray:
    rows = _shared[start:start + ROWS_PER_CHUNK]
    distance = np.bitwise_count(rows[:, None] ^ _shared[None, start:])
    i, j = np.nonzero(distance <= MAX_DISTANCE)
    keep = j > i  # columns start at `start`, so j > i means a later hash
    return np.stack([i[keep] + start, j[keep] + start], axis=1)


def brute_force_pairs(hashes: np.ndarray, processes: int = 2) -> set[tuple[int, int]]:
    global _shared
    _shared = hashes
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        chunks = pool.map(_brute_chunk, range(0, len(hashes), ROWS_PER_CHUNK), chunksize=8)
    return {(int(i), int(j)) for chunk in chunks for i, j in chunk}


def as_pairs(i: np.ndarray, j: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(i.tolist(), j.tolist()))


def main() -> None:
    # no options: the parser answers --help (without starting the run) and refuses a mistyped one
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    hashes, planted = planted_hashes(np.random.default_rng(2024))

    started = time.perf_counter()
    plan = key_plan_for(N, MAX_DISTANCE)  # built once per process, then cached
    plan_seconds = time.perf_counter() - started

    started, cpu_started = time.perf_counter(), time.process_time()
    i, j, _ = pairs_within(hashes, MAX_DISTANCE)
    index_seconds = time.perf_counter() - started
    index_cpu_seconds = time.process_time() - cpu_started
    found = as_pairs(i, j)
    planted_found = len(as_pairs(planted[:, 0], planted[:, 1]) & found)

    subset = hashes[:SUBSET]
    key_plan_for(SUBSET, MAX_DISTANCE)
    started = time.perf_counter()
    subset_found = as_pairs(*pairs_within(subset, MAX_DISTANCE)[:2])
    subset_index_seconds = time.perf_counter() - started

    started = time.perf_counter()
    truth = brute_force_pairs(subset)
    brute_seconds = time.perf_counter() - started

    print(json.dumps({
        "n": N,
        "max_distance": MAX_DISTANCE,
        "keys": len(plan),
        "planted": PLANTED,
        "planted_found": planted_found,
        "pairs_found": len(found),
        "seconds_key_plan": round(plan_seconds, 2),
        "seconds_index": round(index_seconds, 2),
        "cpu_seconds_index": round(index_cpu_seconds, 2),
        "subset_n": SUBSET,
        "subset_pairs_brute_force": len(truth),
        "subset_pairs_index": len(subset_found),
        "recall_vs_brute_force": len(truth & subset_found) / len(truth),
        "subset_identical": truth == subset_found,
        "seconds_index_subset": round(subset_index_seconds, 2),
        "seconds_brute_force_subset": round(brute_seconds, 2),
        "brute_force_processes": 2,
        "speedup_vs_brute_force_subset": round(brute_seconds / subset_index_seconds, 1),
        "seconds_brute_force_1m_estimated": round(brute_seconds * (N / SUBSET) ** 2, 1),
    }))


if __name__ == "__main__":
    main()
