"""Query near-duplicates: exact after normalisation, then embedding cosine; with image descriptions
given, the descriptions must match too.

Normalisation folds the variants that never change meaning (case, Unicode
compatibility forms, punctuation, spacing). Each distinct normalised text is
embedded once; identical ones are exact duplicates (distance 0), and distinct
ones are linked when their cosine reaches the threshold.

A leakless query is generic on purpose ("How would I get more of the ones pictured?"): the image
carries the risk, so two pairs asking it of different pictures are different test items. Given
`descriptions`, a query link holds only where the two image descriptions are equal after
normalisation or their cosine reaches `description_threshold`; a side with no description ("", a
text-only benchmark row) is matched by its query alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from pipeline.backends.base import Embedder
from pipeline.dedup.clusters import DedupResult, cluster_duplicates
from pipeline.dedup.scenes import NO_DESCRIPTION, SceneMatcher

_SPACE = re.compile(r"\s+")
# MiniLM cosine at which two image descriptions show one scene: above every pair of distinct element
# descriptions measured (0.70 at most over the library's 380), below most rewordings of one scene
# (docs/dedup.md, "Queries").
DESCRIPTION_THRESHOLD = 0.8


def normalise(text: str) -> str:
    """NFKC, case-folded, punctuation and symbols turned into spaces, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    spaced = "".join(" " if unicodedata.category(char)[0] in "PS" else char for char in folded)
    return _SPACE.sub(" ", spaced).strip()


def find_query_duplicates(ids: Sequence[str], queries: Sequence[str], *, embedder: Embedder,
                          earlier_ids: Sequence[str] = (), earlier_queries: Sequence[str] = (),
                          threshold: float = 0.95, priority: Sequence[float] | None = None,
                          chunk_rows: int = 1024, descriptions: Sequence[str | None] | None = None,
                          earlier_descriptions: Sequence[str | None] | None = None,
                          description_threshold: float = DESCRIPTION_THRESHOLD) -> DedupResult:
    """Cluster this run's queries with each other and with earlier releases.
    Row distances are 1 - cosine to the cluster's keeper (0 for exact). Rows are told apart by id:
    give each its own (`verify` passes a release's ids as they are and reports a repeated one itself).
    With `descriptions` (one per id; and `earlier_descriptions` for the earlier ids, else those have
    none) two queries link only where their image descriptions match as well (module docstring)."""
    if len(ids) != len(queries) or len(earlier_ids) != len(earlier_queries):
        raise ValueError("each id needs exactly one query")
    texts = [normalise(text) for text in [*earlier_queries, *queries]]
    distinct = list(dict.fromkeys(texts))
    group_of_text = {text: group for group, text in enumerate(distinct)}
    group = np.array([group_of_text[text] for text in texts], dtype=np.intp)
    vectors = embedder.embed(distinct)
    new_groups = np.unique(group[len(earlier_ids):])
    a, b = _close_pairs(vectors, new_groups, threshold, chunk_rows)
    cosine_method = f"{embedder.backend}:{embedder.model} cosine>={threshold}"
    if descriptions is None:
        return _by_query_alone([*earlier_ids, *ids], len(earlier_ids), group, vectors, (a, b), cosine_method,
                               priority)

    scenes = SceneMatcher(_described(earlier_descriptions, len(earlier_ids)), _described(descriptions, len(ids)),
                          embedder, description_threshold)
    left, right = scenes.links(group, np.concatenate([new_groups, a]), np.concatenate([new_groups, b]),
                               len(earlier_ids))

    def describe(members: np.ndarray, keepers: np.ndarray):
        distance, methods = _query_distance(group, vectors, members, keepers, cosine_method)
        described, how = scenes.distance(members, keepers)
        return distance, [f"{query}; {scene}" for query, scene in zip(methods, how)], described

    return cluster_duplicates([*earlier_ids, *ids], len(earlier_ids), left, right,
                              kind="query", describe=describe, priority=priority)


def _described(descriptions: Sequence[str | None] | None, count: int) -> list[str]:
    """Each item's normalised description, NO_DESCRIPTION ("") where it has none."""
    if descriptions is None:
        return [NO_DESCRIPTION] * count
    if len(descriptions) != count:
        raise ValueError("each id needs exactly one description (None or '' for none)")
    return [normalise(text) if text else NO_DESCRIPTION for text in descriptions]


def _by_query_alone(item_ids: list[str], n_earlier: int, group: np.ndarray, vectors: np.ndarray,
                    close: tuple[np.ndarray, np.ndarray], cosine_method: str,
                    priority: Sequence[float] | None) -> DedupResult:
    """Items with the same text join their group's first item; groups link by cosine."""
    first_item = np.unique(group, return_index=True)[1]
    left = np.concatenate([np.arange(len(group)), first_item[close[0]]])
    right = np.concatenate([first_item[group], first_item[close[1]]])
    linked = left != right

    def describe(members: np.ndarray, keepers: np.ndarray):
        return _query_distance(group, vectors, members, keepers, cosine_method)

    return cluster_duplicates(item_ids, n_earlier, left[linked], right[linked],
                              kind="query", describe=describe, priority=priority)


def _query_distance(group: np.ndarray, vectors: np.ndarray, members: np.ndarray, keepers: np.ndarray,
                    cosine_method: str) -> tuple[np.ndarray, list[str]]:
    same = group[members] == group[keepers]
    cosine = np.einsum("ij,ij->i", vectors[group[members]], vectors[group[keepers]])
    distance = np.where(same, 0.0, np.clip(1.0 - cosine, 0.0, 2.0))
    return distance, ["exact-normalised" if s else cosine_method for s in same]


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
