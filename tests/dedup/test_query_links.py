"""Query dedup's edges: a cosine exactly at the threshold links, every row block of the cosine
search is searched (chunk_rows smaller than the queries), and normalisation folds case the Unicode
way and drops symbols, so "Straße" and "STRASSE" are one text."""

from __future__ import annotations

import numpy as np

from pipeline.dedup.queries import find_query_duplicates, normalise
from tests.support.embedders import ScriptedEmbedder, basis


def test_a_cosine_exactly_at_the_threshold_is_a_duplicate():
    embedder = ScriptedEmbedder({"a": basis(0), "b": 0.5 * basis(0) + np.float32(np.sqrt(0.75)) * basis(1)})
    result = find_query_duplicates(["q1", "q2"], ["a", "b"], embedder=embedder, threshold=0.5)
    assert result.drop_ids == {"q2"}


def test_twins_found_in_every_block_of_the_search():
    """With two rows a block, rows 1 and 3 open no block of their own: their link must still be found."""
    texts = ["w", "x", "y", "z", "v"]
    vectors = {"w": basis(0), "x": basis(1), "y": basis(2), "z": basis(1), "v": basis(3)}
    result = find_query_duplicates([f"q{i}" for i in range(5)], texts, embedder=ScriptedEmbedder(vectors),
                                   threshold=0.9, chunk_rows=2)
    assert result.drop_ids == {"q3"}


def test_normalise_folds_case_fully_and_drops_symbols():
    assert normalise("Straße $5 © + ok") == normalise("STRASSE 5 ok") == "strasse 5 ok"
