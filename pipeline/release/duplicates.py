"""What counts as a duplicate in a release: one definition, used by `release` (to drop) and `verify` (to check).

- Images: pHash <= max_phash and dHash <= max_dhash bits, compared between
  *images*, not pairs. The queries of one seed share its image on purpose, so
  pairs of one seed are never each other's image duplicates; a dropped image
  takes all its pairs.
- Queries: equal after normalisation, or MiniLM cosine >= query_threshold, and the two pairs' image
  descriptions equal after normalisation or MiniLM cosine >= description_threshold: a leakless query is
  generic on purpose, so one asked of two different pictures is two test items. A pair with no
  description is matched by its query alone.

The safer pair (lower leak score) keeps a cluster; earlier releases always keep theirs.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from pipeline.backends.base import Embedder
from pipeline.contracts import ReasonCode
from pipeline.dedup import ClusterRow, DedupResult, find_image_duplicates, find_query_duplicates
from pipeline.dedup.queries import DESCRIPTION_THRESHOLD
from pipeline.records import Decision, Verdict
from pipeline.writers.shard_reader import shard_columns

INDEX_COLUMNS = ["id", "seed_id", "instruction_id", "phash", "dhash", "instruction"]
# A dedup drop's decision in the release's decisions.parquet, beside the cluster row that says the same
STAGE = "release_dedup"
CODES = {"image": ReasonCode.release_image_duplicate.value, "query": ReasonCode.release_query_duplicate.value}
BENCHMARK_CODE = ReasonCode.release_benchmark_duplicate.value  # a --dedup-against row's twin (`outside.py`)


def with_release_names(clusters: list[ClusterRow], index: pd.DataFrame) -> list[ClusterRow]:
    """Each earlier member with the release that first shipped it (`index.released_in`)."""
    released_in = dict(zip(index["id"], index["released_in"]))
    return [row.model_copy(update={"released_in": released_in.get(row.item_id)}) if row.earlier_release else row
            for row in clusters]


def no_earlier_rows() -> pd.DataFrame:
    return pd.DataFrame(columns=[*INDEX_COLUMNS, "image_description"])


def with_descriptions(index: pd.DataFrame, folders: list[Path]) -> pd.DataFrame:
    """The earlier releases' `index` with each row's image description, read from their shards (the
    dedup index holds none): a query twin of a released pair is a duplicate only of the same scene."""
    frames = [shard_columns(folder, ["id", "image_description"]) for folder in folders]
    if not frames:
        return index.assign(image_description=pd.Series(dtype=object))
    described = pd.concat(frames, ignore_index=True).drop_duplicates("id")
    return index.merge(described, on="id", how="left")


def find_duplicates(rows: list[dict], index: pd.DataFrame, embedder: Embedder, *, max_phash: int, max_dhash: int,
                    query_threshold: float, description_threshold: float = DESCRIPTION_THRESHOLD,
                    outside: pd.DataFrame | None = None) -> tuple[DedupResult, DedupResult]:
    """Image and query near-duplicates among `rows` (dicts with id, seed_id, instruction, image_description,
    leak_score, _phash, _dhash) and against the earlier releases' `index`; queries also against the
    `outside` benchmarks' rows (`outside.outside_rows`: no images), after the earlier releases'."""
    images = image_duplicates(rows, index, max_phash=max_phash, max_dhash=max_dhash)
    # A pair whose image goes keeps no query cluster: its query twin would be dropped for a keeper
    # that never ships, and the query shipped nowhere.
    shown = [row for row in rows if row["id"] not in images.drop_ids]
    earlier = index if outside is None or outside.empty else pd.concat([index, outside], ignore_index=True)
    return images, query_duplicates(shown, earlier, embedder, threshold=query_threshold,
                                    description_threshold=description_threshold)


def priorities(rows: list[dict]) -> list[float]:
    """The safer pair keeps a cluster: lower leak score first, an unscored pair last."""
    return [1.0 if row.get("leak_score") is None or math.isnan(row["leak_score"]) else row["leak_score"]
            for row in rows]


def query_duplicates(rows: list[dict], index: pd.DataFrame, embedder: Embedder, *, threshold: float,
                     description_threshold: float = DESCRIPTION_THRESHOLD) -> DedupResult:
    """Query twins whose pairs show one scene (module docstring); a row or an `index` row without an
    `image_description` is matched by its query alone."""
    if not rows:
        return DedupResult(frozenset(), [])
    earlier = index["image_description"] if "image_description" in index else [None] * len(index)
    return find_query_duplicates(
        [row["id"] for row in rows], [row["instruction"] for row in rows], embedder=embedder,
        earlier_ids=list(index["id"]), earlier_queries=list(index["instruction"]), threshold=threshold,
        priority=priorities(rows), descriptions=[description(row.get("image_description")) for row in rows],
        earlier_descriptions=[description(text) for text in earlier], description_threshold=description_threshold)


def description(text) -> str | None:
    """An image description; None for none (a missing key, null, or NaN from a frame)."""
    return text if isinstance(text, str) and text else None


def image_duplicates(rows: list[dict], index: pd.DataFrame, *, max_phash: int, max_dhash: int) -> DedupResult:
    if not rows:
        return DedupResult(frozenset(), [])
    return find_image_duplicates_by_image(rows, priorities(rows), index, max_phash=max_phash, max_dhash=max_dhash)


def find_image_duplicates_by_image(rows: list[dict], priority: list[float], index: pd.DataFrame, *,
                                   max_phash: int, max_dhash: int) -> DedupResult:
    """Image dedup between *images*, not pairs. The pairs of one seed share its image, also with the
    seed's pairs an earlier version released: a new query of a released seed is no duplicate, and its
    image is an earlier one, which keeps its cluster (a new copy of it under another seed is dropped)."""
    released = set(index["seed_id"].dropna())
    groups: dict[str, list[int]] = {}
    for number, row in enumerate(rows):
        if row["seed_id"] not in released:
            groups.setdefault(row["seed_id"], []).append(number)
    if not groups:
        return DedupResult(frozenset(), [])
    keys = list(groups)
    heads = [rows[members[0]] for members in groups.values()]
    earlier = index.drop_duplicates(["phash", "dhash"], ignore_index=True)
    by_image = find_image_duplicates(
        keys, [[row["_phash"], row["_dhash"]] for row in heads], earlier_ids=list(earlier["id"]),
        earlier_hashes=earlier[["phash", "dhash"]].to_numpy("uint64"),
        max_phash=max_phash, max_dhash=max_dhash,
        priority=[min(priority[i] for i in members) for members in groups.values()])
    # Report per pair: each pair of an image stands where its image stands in the cluster.
    first_pair = {key: rows[members[0]]["id"] for key, members in groups.items()}
    clusters = []
    for row in by_image.clusters:
        members = [rows[i]["id"] for i in groups[row.item_id]] if row.item_id in groups else [row.item_id]
        keeper = first_pair.get(row.duplicate_of, row.duplicate_of)
        clusters += [row.model_copy(update={"item_id": member, "duplicate_of": keeper}) for member in members]
    dropped = frozenset(rows[i]["id"] for key in by_image.drop_ids for i in groups[key])
    return DedupResult(dropped, clusters)



def dedup_decisions(rows: list[dict], clusters: list[ClusterRow], *, embedder: Embedder, max_phash: int,
                    max_dhash: int, query_threshold: float, outside_ids: frozenset[str] = frozenset()
                    ) -> list[Decision]:
    """A drop `Decision` for each pair dedup dropped (`clusters`, with the earlier members' `released_in`),
    so decisions.parquet reads each pair's last word: its score is the distance to the keeper (pHash bits,
    or 1 - the queries' cosine), its threshold the largest distance the rule allows (a chain of twins can
    put a member past it, as the cluster row shows), its reason the keeper and where that shipped, or the
    `--dedup-against` file whose row it is (`outside_ids`)."""
    by_id = {row["id"]: row for row in rows}
    where = {cluster.item_id: cluster.released_in for cluster in clusters if cluster.earlier_release}
    decisions = []
    for cluster in clusters:
        if cluster.kept:
            continue
        row, image = by_id[cluster.item_id], cluster.kind == "image"
        outside = cluster.duplicate_of in outside_ids
        shipped = (f"a row of --dedup-against {where[cluster.duplicate_of]}" if outside else
                   f"released in {where[cluster.duplicate_of]}" if where.get(cluster.duplicate_of) else "in this release")
        scores = {"phash_bits": cluster.distance} if image else {"query_distance": cluster.distance}
        if cluster.description_distance is not None:
            scores["description_distance"] = cluster.description_distance
        decisions.append(Decision(
            item_id=row["id"], seed_id=row["seed_id"], stage=STAGE, text=row["instruction"],
            image_description=row.get("image_description") or "", scores=scores, score=cluster.distance,
            threshold=float(max_phash) if image else round(1.0 - query_threshold, 12),
            verdict=Verdict.drop, code=BENCHMARK_CODE if outside else CODES[cluster.kind],
            reason=(f"near-duplicate {cluster.kind} of {cluster.duplicate_of} ({shipped}): {cluster.method}, "
                    f"distance {cluster.distance:.3g}"
                    + (f", dHash <= {max_dhash} too" if image else "")),
            backend="imagehash" if image else embedder.backend, model="" if image else embedder.model,
            prompt_hash=""))
    return decisions
