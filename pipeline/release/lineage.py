"""What the earlier versions of a release name hold, for the version `make_release` writes next: which
number it gets, every row they shipped (and the version that first shipped each), which candidates
they already hold, and how the new version differs from the one it extends."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline.release.claims import ACCEPTED
from pipeline.release.duplicates import INDEX_COLUMNS
from pipeline.release.writer import INDEX_FILE
from pipeline.writers.shard_reader import shard_columns


def version_to_write(earlier: list[tuple[int, Path]], name: str, extend: bool, releases_dir: Path) -> int:
    """The number of the version to write; refuses an --extend with nothing to extend, and a plain
    release of a name with versions (it would cut their rows from the lineage)."""
    if extend and not earlier:
        raise ValueError(f"--extend: there is no earlier release of {name!r} in {releases_dir}")
    if earlier and not extend:
        raise ValueError(f"{name} already has releases ({version_span(earlier)}): pass --extend to add to "
                         f"{earlier[-1][1].name}, or release under a new --name")
    return earlier[-1][0] + 1 if earlier else 1


# What decides which pairs an extended version's checks turn down; the shard size and licence do not.
SIFTING_OPTIONS = ("max_phash", "max_dhash", "query_threshold", "description_threshold", "min_match_similarity")


def changed_options_notes(earlier: dict | None, options: dict, earlier_name: str) -> list[str]:
    """A note when this version sifts its new pairs by other thresholds than the version it extends: a
    pair that one dropped as a duplicate of a published pair may ship now (a release made before
    options were recorded says nothing)."""
    if not earlier:
        return []
    changed = [f"{key} {earlier[key]} -> {options[key]}" for key in SIFTING_OPTIONS
               if key in earlier and earlier[key] != options[key]]
    if "query_threshold" in earlier and "description_threshold" not in earlier:  # made before the same-scene rule
        changed.append("query duplicates by the query alone -> asked of the same scene (description_threshold "
                       f"{options['description_threshold']})")
    if not changed:
        return []
    return [f"this version sifts its new pairs by other thresholds than {earlier_name} ({', '.join(changed)}): "
            f"pairs {earlier_name} or an earlier version dropped (as duplicates, by the final filter) may ship "
            "now; each version's manifest records its own options"]


def version_span(versions: list[tuple[int, Path]]) -> str:
    """'v1' or 'v1–v3': the versions named, oldest to newest."""
    first, last = versions[0][0], versions[-1][0]
    return f"v{first}" if first == last else f"v{first}–v{last}"


def released_in(rows: list[dict], earlier: list[tuple[int, Path]]) -> list[tuple[int, Path]]:
    """The earlier versions that hold any of `rows` (by id)."""
    ids = {row["id"] for row in rows}
    return [(number, folder) for number, folder in earlier
            if ids & set(pq.read_table(folder / INDEX_FILE, columns=["id"])["id"].to_pylist())]


def unreviewed_carried_note(carried: list[dict], source: str) -> str:
    """Why an extend asked for as reviewed came out a preview: the rows it carries say so."""
    unreviewed = sum(row["review_state"] != ACCEPTED for row in carried)
    return (f"this version is a preview: {unreviewed} pair(s) carried from {source} are not reviewed-accepted "
            "(a preview stays one; release reviewed pairs under a new --name)")


def earlier_index(folders: list[Path]) -> pd.DataFrame:
    """Every row ever released under this name, oldest release first, with the release (`released_in`)
    that first shipped it."""
    frames = [with_seed_ids(pd.read_parquet(folder / INDEX_FILE), folder).assign(released_in=folder.name)
              for folder in folders]
    index = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*INDEX_COLUMNS, "released_in"])
    return index.drop_duplicates("id", ignore_index=True)


def with_seed_ids(index: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """A release's dedup index with each row's seed: an index written before it stored them takes
    them from the release's shards."""
    if "seed_id" in index:
        return index
    return index.merge(shard_columns(folder, ["id", "seed_id"]), on="id", how="left")


def unseen(rows: list[dict], seen: set[str]) -> tuple[list[dict], int]:
    """Rows whose id was never released and is not repeated (same pair from two runs)."""
    kept = []
    for row in rows:
        if row["id"] not in seen:
            seen.add(row["id"])
            kept.append(row)
    return kept, len(rows) - len(kept)


def outside_files_note(earlier: list[dict] | None, given: list[str], earlier_name: str) -> list[str]:
    """A note when the version extended was checked against outside benchmarks this one is not given:
    its new pairs may repeat their rows, and the new manifest and card do not name them."""
    missing = sorted({entry["file"] for entry in earlier or []} - set(given))
    if not missing:
        return []
    return [f"{earlier_name} was deduplicated against {', '.join(missing)}; this version's new pairs are not "
            "(pass --dedup-against for each again): they may repeat its rows"]
