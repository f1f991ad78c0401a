"""A release's dedup: a pair whose image is dropped keeps no query cluster. Query dedup ran on the
same rows as image dedup, so a query was dropped as the twin of a pair that was itself dropped for
its image, and shipped nowhere."""

from __future__ import annotations

from pipeline.backends.minilm import default_embedder
from pipeline.release.duplicates import find_duplicates, no_earlier_rows

SAME_PICTURE = (0x0F0F0F0F0F0F0F0F, 0x3333333333333333)
SHARED_QUERY = "Which shelf would suit this best in a small flat?"


def row(pair: str, seed: str, query: str, leak_score: float) -> dict:
    return {"id": pair, "seed_id": seed, "instruction": query, "leak_score": leak_score,
            "_phash": SAME_PICTURE[0], "_dhash": SAME_PICTURE[1]}


def test_a_query_twin_of_a_pair_dropped_for_its_image_ships():
    rows = [row("a1", "seed-a", "What colour scheme would brighten this room?", 0.01),  # seed a keeps the picture
            row("a2", "seed-a", SHARED_QUERY, 0.30),
            row("b1", "seed-b", SHARED_QUERY, 0.20)]  # safer twin of a2, on a copy of seed a's picture
    images, queries = find_duplicates(rows, no_earlier_rows(), default_embedder(), max_phash=8, max_dhash=8,
                                      query_threshold=0.95)
    assert images.drop_ids == {"b1"}
    assert queries.drop_ids == frozenset() and queries.clusters == []
    shipped = {r["id"] for r in rows} - images.drop_ids - queries.drop_ids
    assert shipped == {"a1", "a2"}  # the shared query ships once, with the picture's keeper
