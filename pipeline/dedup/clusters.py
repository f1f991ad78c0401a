"""Near-duplicate pairs -> clusters with one deterministic keeper each.

Dedup only *marks* items (NeMo Curator style): it returns the ids to drop and
a cluster table that says why; removing them is a separate step.

Items are indexed earlier-releases-first: indices below `n_earlier` belong to
earlier releases. Those are already published, so they are never dropped and
always win the keeper slot (the first one given wins: pass releases oldest
first). Among new items the lowest priority value wins, then the lowest id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pipeline.records import Record, content_id
from pipeline.storage import atomic_path

Kind = Literal["image", "query"]
# (members, keepers) -> (distance to keeper, how the member matches it[, description distance to keeper]),
# one per member: a query search given image descriptions adds the third
Describe = Callable[[np.ndarray, np.ndarray], tuple]


class ClusterRow(Record):
    """One member of a near-duplicate cluster."""

    cluster_id: str
    item_id: str
    kind: Kind
    kept: bool
    duplicate_of: str | None = None  # the cluster's keeper; None on the keeper itself
    distance: float | None = None  # to the keeper: Hamming bits (image), 1 - cosine (query)
    # a query's image description to the keeper's: 1 - cosine (0 for equal); None where either has none,
    # for an image, and where no descriptions were compared
    description_distance: float | None = None
    method: str | None = None  # the rule that links this item to the keeper's cluster
    earlier_release: bool = False
    released_in: str | None = None  # which earlier release, where the caller knows (`leakless release` does)


@dataclass(frozen=True)
class DedupResult:
    drop_ids: frozenset[str]
    clusters: list[ClusterRow]


def cluster_duplicates(item_ids: Sequence[str], n_earlier: int, left: np.ndarray, right: np.ndarray,
                       *, kind: Kind, describe: Describe,
                       priority: Sequence[float] | None = None) -> DedupResult:
    """Connected components over the pairs (left[k], right[k]); clusters that
    hold only earlier-release items are not reported."""
    if len(left) == 0:
        return DedupResult(frozenset(), [])
    n = len(item_ids)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    rank = _keeper_rank(item_ids, n_earlier, priority)

    by_rank = np.argsort(rank)
    first_label, first_at = np.unique(labels[by_rank], return_index=True)
    keeper_of_label = np.empty(labels.max() + 1, dtype=np.intp)
    keeper_of_label[first_label] = by_rank[first_at]

    sizes = np.bincount(labels, minlength=len(keeper_of_label))
    has_new = np.bincount(labels[n_earlier:], minlength=len(keeper_of_label)) > 0
    members = np.flatnonzero((sizes[labels] > 1) & has_new[labels])
    keepers = keeper_of_label[labels[members]]
    duplicates = members[members != keepers]
    distances, methods, *described = describe(duplicates, keeper_of_label[labels[duplicates]])
    described = described[0] if described else [None] * len(duplicates)
    linked = {int(m): (float(d), how, scene) for m, d, how, scene in zip(duplicates, distances, methods, described)}

    rows = []
    for member, keeper in zip(members.tolist(), keepers.tolist()):
        distance, method, scene = linked.get(member, (None, None, None))
        rows.append(ClusterRow(
            cluster_id=content_id("dedup", kind, item_ids[keeper]),
            item_id=item_ids[member], kind=kind,
            kept=member == keeper or member < n_earlier,
            duplicate_of=None if member == keeper else item_ids[keeper],
            distance=distance, description_distance=scene, method=method, earlier_release=member < n_earlier,
        ))
    rows.sort(key=lambda row: (row.cluster_id, row.duplicate_of is not None, row.item_id))
    return DedupResult(frozenset(row.item_id for row in rows if not row.kept), rows)


# Typed whatever the rows hold: an empty table, or a column null in every row (`released_in` of a release
# with no earlier duplicate), would otherwise be Arrow's null type, which other versions' files do not concatenate with.
CLUSTER_SCHEMA = pa.schema([
    ("cluster_id", pa.string()), ("item_id", pa.string()), ("kind", pa.string()), ("kept", pa.bool_()),
    ("duplicate_of", pa.string()), ("distance", pa.float64()), ("description_distance", pa.float64()),
    ("method", pa.string()),
    ("earlier_release", pa.bool_()), ("released_in", pa.string()),
])


def write_clusters(rows: Sequence[ClusterRow], path: str | Path) -> Path:
    """Write the cluster table as Parquet (`CLUSTER_SCHEMA`), atomically (temp file, then rename)."""
    path = Path(path)
    table = pa.Table.from_pylist([row.model_dump() for row in rows], schema=CLUSTER_SCHEMA)
    with atomic_path(path) as temporary:
        pq.write_table(table, temporary)
    return path


def _keeper_rank(item_ids: Sequence[str], n_earlier: int, priority: Sequence[float] | None) -> np.ndarray:
    """0 is the best keeper. Earlier items keep their given order; new items
    sort by (priority, id)."""
    new_ids = np.asarray(item_ids[n_earlier:], dtype=str)
    new_priority = np.zeros(len(new_ids)) if priority is None else np.asarray(priority, dtype=float)
    if len(new_priority) != len(new_ids):
        raise ValueError(f"priority has {len(new_priority)} values for {len(new_ids)} new items")
    rank = np.arange(len(item_ids))
    rank[n_earlier + np.lexsort((new_ids, new_priority))] = np.arange(n_earlier, len(item_ids))
    return rank
