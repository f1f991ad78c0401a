"""One release: select -> final filtration -> dedup -> stable ids -> shards, index, manifest, card.

Everything is written into a temporary folder beside the target and renamed
into place at the end, so a failed release leaves nothing behind.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from pipeline.backends.base import Embedder
from pipeline.contracts import PairChecker
from pipeline.dedup import DedupResult, find_image_duplicates, find_query_duplicates, write_clusters
from pipeline.release.card import render_card
from pipeline.release.final_filter import RulesPairChecker, final_filter, harm_check_verdicts
from pipeline.release.select import INDEX_FILE, Candidates, add_release, add_run
from pipeline.release.versions import check_name, release_folder, release_versions
from pipeline.release.writer import release_manifest, release_tables, write_dedup_index, write_release_shards
from pipeline.storage import atomic_write_json, atomic_write_text
from pipeline.writers.tables import decisions_frame, write_frame


class NothingToRelease(ValueError):
    """No pair would go in: the user's to fix (review the runs, or ask for a preview)."""


class ReleaseOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_shard_bytes: int = Field(500_000_000, ge=1, description="image bytes per shard")
    max_phash: int = Field(8, ge=0, le=15, description="image near-duplicate: pHash bits")
    max_dhash: int = Field(8, ge=0, le=64, description="image near-duplicate: dHash bits")
    query_threshold: float = Field(0.95, ge=0.0, le=1.0, description="query near-duplicate: MiniLM cosine")
    min_match_similarity: float = Field(0.2, ge=-1.0, le=1.0, description="final filter: query~description floor")
    license: str = "apache-2.0"


def make_release(run_dirs: list[Path], *, name: str, releases_dir: Path, embedder: Embedder,
                 preview: bool = False, extend: bool = False, options: ReleaseOptions = ReleaseOptions(),
                 checker: PairChecker | None = None) -> Path:
    """Write `<releases_dir>/<name>-v<N>/` and return it."""
    check_name(name)
    earlier = release_versions(releases_dir, name)
    if extend and not earlier:
        raise ValueError(f"--extend: there is no earlier release of {name!r} in {releases_dir}")
    version = earlier[-1][0] + 1 if earlier else 1

    candidates = Candidates()
    if extend:
        add_release(candidates, earlier[-1][1])
    carried = len(candidates.rows)
    for run_dir in run_dirs:
        add_run(candidates, run_dir, preview=preview)
    if len(candidates.rows) == carried:
        kind = "candidate" if preview else "accepted"
        raise NothingToRelease(f"no {kind} pairs in {', '.join(Path(r).name for r in run_dirs)} "
                               f"(left out by review: {dict(candidates.left_out) or 'none'})")

    index = earlier_index([folder for _, folder in earlier])
    new, same_id = unseen(candidates.rows[carried:], set(index["id"]))
    checker = checker or RulesPairChecker(embedder, harm_check_verdicts(run_dirs), options.min_match_similarity)
    checked, decisions = final_filter(new, checker)
    image_dups, query_dups = find_duplicates(checked, index, embedder, options)
    fresh = [row for row in checked if row["id"] not in image_dups.drop_ids | query_dups.drop_ids]
    next_id = int(index["instruction_id"].max()) + 1 if len(index) else 1
    for offset, row in enumerate(fresh):
        row.update(instruction_id=next_id + offset, added_in=version)
    rows = candidates.rows[:carried] + fresh
    if not rows:
        raise NothingToRelease("every pair was dropped by final filtration or dedup; nothing to release")

    releases_dir = Path(releases_dir)
    releases_dir.mkdir(parents=True, exist_ok=True)
    target = release_folder(releases_dir, name, version)
    staging = Path(tempfile.mkdtemp(dir=releases_dir, prefix=f".{target.name}."))
    try:
        shards = write_release_shards(release_tables(rows, candidates.sources), staging / "data",
                                      options.max_shard_bytes)
        write_dedup_index(rows, staging / INDEX_FILE)
        write_clusters(image_dups.clusters + query_dups.clusters, staging / "dedup_clusters.parquet")
        frame = decisions_frame(decisions, run_id="")
        frame["run_id"] = [row["run_id"] for row in new]
        write_frame(frame, staging / "decisions.parquet")
        manifest = release_manifest(
            rows, shards, name=name, version=version, preview=preview, license=options.license,
            review="unreviewed preview" if preview else "reviewed: accepted pairs only",
            extends=earlier[-1][0] if extend else None, carried_rows=carried,
            runs=[{"run_id": Path(r).name, "path": str(Path(r).resolve())} for r in run_dirs],
            earlier_releases=[folder.name for _, folder in earlier],
            final_filter={"backend": checker.backend, "model": checker.model, "prompt_hash": checker.prompt_hash,
                          "kept": len(checked), "dropped": len(new) - len(checked)},
            dropped={"not_taken_by_review": dict(candidates.left_out), "same_id": same_id,
                     "final_filter": len(new) - len(checked), "image_duplicate": len(image_dups.drop_ids),
                     "query_duplicate": len(query_dups.drop_ids - image_dups.drop_ids)},
            options=options.model_dump(),
        )
        atomic_write_json(staging / "manifest.json", manifest)
        atomic_write_text(staging / "README.md", render_card(manifest, rows))
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def earlier_index(folders: list[Path]) -> pd.DataFrame:
    """Every row ever released under this name, oldest release first."""
    frames = [pd.read_parquet(folder / INDEX_FILE) for folder in folders]
    columns = ["id", "instruction_id", "phash", "dhash", "instruction"]
    index = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return index.drop_duplicates("id", ignore_index=True)


def unseen(rows: list[dict], seen: set[str]) -> tuple[list[dict], int]:
    """Rows whose id was never released and is not repeated (same pair from two runs)."""
    kept = []
    for row in rows:
        if row["id"] not in seen:
            seen.add(row["id"])
            kept.append(row)
    return kept, len(rows) - len(kept)


def find_duplicates(rows: list[dict], index: pd.DataFrame, embedder: Embedder, options: ReleaseOptions):
    """Image and query near-duplicates among `rows` and against the earlier releases.
    The safer pair (lower leak score) keeps the cluster."""
    if not rows:
        return DedupResult(frozenset(), []), DedupResult(frozenset(), [])
    ids = [row["id"] for row in rows]
    priority = [1.0 if row["leak_score"] is None or math.isnan(row["leak_score"]) else row["leak_score"]
                for row in rows]
    images = find_image_duplicates_by_image(rows, priority, index, options)
    queries = find_query_duplicates(
        ids, [row["instruction"] for row in rows], embedder=embedder, earlier_ids=list(index["id"]),
        earlier_queries=list(index["instruction"]), threshold=options.query_threshold, priority=priority)
    return images, queries


def find_image_duplicates_by_image(rows: list[dict], priority: list[float], index: pd.DataFrame,
                                   options: ReleaseOptions) -> DedupResult:
    """Image dedup between *images*, not pairs: the queries of one seed share its image on
    purpose, so they are never each other's duplicates. A dropped image takes all its pairs."""
    groups: dict[str, list[int]] = {}
    for number, row in enumerate(rows):
        groups.setdefault(row["seed_id"], []).append(number)
    keys = list(groups)
    heads = [rows[members[0]] for members in groups.values()]
    earlier = index.drop_duplicates(["phash", "dhash"], ignore_index=True)
    by_image = find_image_duplicates(
        keys, [[row["_phash"], row["_dhash"]] for row in heads], earlier_ids=list(earlier["id"]),
        earlier_hashes=earlier[["phash", "dhash"]].to_numpy("uint64"),
        max_phash=options.max_phash, max_dhash=options.max_dhash,
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

