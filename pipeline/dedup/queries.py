"""Query near-duplicates: exact after normalisation, then embedding cosine.

Normalisation folds the variants that never change meaning (case, Unicode
compatibility forms, punctuation, spacing). Each distinct normalised text is
embedded once; identical ones are exact duplicates (distance 0), and distinct
ones are linked when their cosine reaches the threshold.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from pipeline.backends.base import Embedder
from pipeline.dedup.clusters import DedupResult, cluster_duplicates

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC, case-folded, punctuation and symbols turned into spaces, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    spaced = "".join(" " if unicodedata.category(char)[0] in "PS" else char for char in folded)
    return _SPACE.sub(" ", spaced).strip()


def find_query_duplicates(ids: Sequence[str], queries: Sequence[str], *, embedder: Embedder,
                          earlier_ids: Sequence[str] = (), earlier_queries: Sequence[str] = (),
                          threshold: float = 0.95, priority: Sequence[float] | None = None,
                          chunk_rows: int = 1024) -> DedupResult:
    """Cluster this run's queries with each other and with earlier releases.
    Row distances are 1 - cosine to the cluster's keeper (0 for exact). Rows are told apart by id:
    give each its own (`verify` passes a release's ids as they are and reports a repeated one itself)."""
    if len(ids) != len(queries) or len(earlier_ids) != len(earlier_queries):
        raise ValueError("each id needs exactly one query")
    texts = [normalise(text) for text in [*earlier_queries, *queries]]
    distinct = list(dict.fromkeys(texts))
    group_of_text = {text: group for group, text in enumerate(distinct)}
    group = np.array([group_of_text[text] for text in texts], dtype=np.intp)
    vectors = embedder.embed(distinct)

    # Items with the same text join their group's first item; groups link by cosine.
    first_item = np.unique(group, return_index=True)[1]
    exact_left, exact_right = np.arange(len(texts)), first_item[group]
    new_groups = np.unique(group[len(earlier_ids):])
    a, b = _close_pairs(vectors, new_groups, threshold, chunk_rows)
    left = np.concatenate([exact_left, first_item[a]])
    right = np.concatenate([exact_right, first_item[b]])
    linked = left != right
    cosine_method = f"{embedder.backend}:{embedder.model} cosine>={threshold}"

    def describe(members: np.ndarray, keepers: np.ndarray):
        same = group[members] == group[keepers]
        cosine = np.einsum("ij,ij->i", vectors[group[members]], vectors[group[keepers]])
        distance = np.where(same, 0.0, np.clip(1.0 - cosine, 0.0, 2.0))
        return distance, ["exact-normalised" if s else cosine_method for s in same]

    return cluster_duplicates([*earlier_ids, *ids], len(earlier_ids), left[linked], right[linked],
                              kind="query", describe=describe, priority=priority)


def _close_pairs(vectors: np.ndarray, rows: np.ndarray, threshold: float, chunk_rows: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(row group, any other group) with cosine >= threshold, one block of rows at a time
    so memory stays at chunk_rows x groups."""
    left, right = [np.zeros(0, np.intp)], [np.zeros(0, np.intp)]
    for start in range(0, len(rows), chunk_rows):
        block = rows[start:start + chunk_rows]
        row, column = np.nonzero(vectors[block] @ vectors.T >= threshold)
        other = block[row] != column
        left.append(block[row][other])
        right.append(column[other])
    return np.concatenate(left), np.concatenate(right)
