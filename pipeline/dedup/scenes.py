"""Whether two query twins show one scene: their image descriptions are equal after normalisation,
or their MiniLM cosine reaches a threshold. Used by `queries.find_query_duplicates` when it is given
descriptions; a side with no description is matched by its query alone.

Descriptions are embedded lazily, only those of query twins whose descriptions differ: most pairs
have no twin, so a release embeds a handful of descriptions, not one per pair.
"""

from __future__ import annotations

import numpy as np

from pipeline.backends.base import Embedder

NO_DESCRIPTION = ""
QUERY_ALONE = "no description: query alone"


class SceneMatcher:
    """The normalised descriptions of the earlier items, then the new ones (indexed as the items are)."""

    def __init__(self, earlier: list[str], new: list[str], embedder: Embedder, threshold: float):
        self.texts, self.n_earlier = [*earlier, *new], len(earlier)
        self.embedder, self.threshold = embedder, threshold
        self.cosine_method = f"description {embedder.backend}:{embedder.model} cosine>={threshold}"
        self._vectors: dict[str, np.ndarray] = {}

    def links(self, group: np.ndarray, query_left: np.ndarray, query_right: np.ndarray,
              n_earlier: int) -> tuple[np.ndarray, np.ndarray]:
        """Item pairs to join: items of one (query group, description) join its first item, and two such
        keys join where their query groups are a pair of (`query_left`, `query_right`), at least one of
        them holds a new item, and their descriptions match."""
        keys = list(zip(group.tolist(), self.texts))
        key_of = {key: number for number, key in enumerate(dict.fromkeys(keys))}
        key = np.array([key_of[k] for k in keys], dtype=np.intp)
        first_item = np.unique(key, return_index=True)[1]
        has_new = np.zeros(len(first_item), dtype=bool)
        has_new[key[n_earlier:]] = True
        key_group = group[first_item]
        keys_in = {g: np.flatnonzero(key_group == g) for g in np.unique(key_group)}

        a, b = self._key_pairs(keys_in, query_left, query_right, has_new)
        matched = self._described_alike(first_item[a], first_item[b])
        left = np.concatenate([np.arange(len(group)), first_item[a[matched]]])
        right = np.concatenate([first_item[key], first_item[b[matched]]])
        linked = left != right
        return left[linked], right[linked]

    @staticmethod
    def _key_pairs(keys_in: dict, query_left: np.ndarray, query_right: np.ndarray,
                   has_new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (key, other key) of two linked query groups (a group with itself included)."""
        left, right = [np.zeros(0, np.intp)], [np.zeros(0, np.intp)]
        for g, h in dict.fromkeys(zip(query_left.tolist(), query_right.tolist())):
            x, y = np.meshgrid(keys_in[g], keys_in[h], indexing="ij")
            x, y = x.ravel(), y.ravel()
            keep = (x < y if g == h else x != y) & (has_new[x] | has_new[y])
            left.append(x[keep])
            right.append(y[keep])
        return np.concatenate(left), np.concatenate(right)

    def _described_alike(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """For each item pair: equal descriptions, either without one, or cosine >= threshold."""
        first = [self.texts[i] for i in left.tolist()]
        second = [self.texts[i] for i in right.tolist()]
        alike = np.array([x == y or NO_DESCRIPTION in (x, y) for x, y in zip(first, second)], dtype=bool)
        unsure = np.flatnonzero(~alike)
        if len(unsure):
            cosine = self._cosine([first[i] for i in unsure], [second[i] for i in unsure])
            alike[unsure] = cosine >= self.threshold
        return alike

    def distance(self, members: np.ndarray, keepers: np.ndarray) -> tuple[list[float | None], list[str]]:
        """Each member's description distance to its keeper (1 - cosine, 0 for equal, None where either
        has none) and the rule that reads it."""
        first = [self.texts[i] for i in members.tolist()]
        second = [self.texts[i] for i in keepers.tolist()]
        differ = [n for n, (x, y) in enumerate(zip(first, second)) if x != y and NO_DESCRIPTION not in (x, y)]
        cosine = dict(zip(differ, self._cosine([first[n] for n in differ], [second[n] for n in differ])))
        distances: list[float | None] = []
        methods = []
        for n, (x, y) in enumerate(zip(first, second)):
            if NO_DESCRIPTION in (x, y):
                distances.append(None)
                methods.append(QUERY_ALONE)
            elif x == y:
                distances.append(0.0)
                methods.append("description exact-normalised")
            else:
                distances.append(float(np.clip(1.0 - cosine[n], 0.0, 2.0)))
                methods.append(self.cosine_method)
        return distances, methods

    def _cosine(self, first: list[str], second: list[str]) -> np.ndarray:
        if not first:
            return np.zeros(0)
        missing = list(dict.fromkeys(text for text in [*first, *second] if text not in self._vectors))
        if missing:
            self._vectors.update(zip(missing, self.embedder.embed(missing)))
        return np.einsum("ij,ij->i", np.stack([self._vectors[t] for t in first]),
                         np.stack([self._vectors[t] for t in second]))
