"""Extend's inventory: what exists under `runs_dir` and `releases_dir` for one release name.

Pairs in the latest release of the name, pairs still pending, every seed ever used, and the
yield seen so far (seeds built, pairs they gave). `pipeline.extend` plans from it.

A seed is used by its id, and an element-first seed also by its sub-category and element name: its id
holds the category's name, so after a category is renamed in taxonomy.toml the same element has a new
id, and would be built (and released) a second time under the new name.

A run counts only once finished (its manifest is written last): a killed run's seeds stay unused,
so the next extend plans them again.

A pair is **pending** when it sits in the shards of a finished run under
`runs_dir`, no release of the name has considered it yet (it is neither in a
release's shards nor among a release's final-filter decisions), and its run's
imported review has not rejected it. Unreviewed, skipped and conflicting pairs
are pending: they may still be accepted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline.records import Element, Seed
from pipeline.release.versions import release_versions
from pipeline.review.importer import reviewed_pairs
from pipeline.writers.shard_reader import shard_columns, shard_paths


@dataclass
class Inventory:
    released: Counter = field(default_factory=Counter)  # sub-category -> pairs in the latest release
    pending: Counter = field(default_factory=Counter)  # sub-category -> pairs awaiting review or release
    used_seeds: set[str] = field(default_factory=set)  # in any finished run's ledger or any release
    used_elements: set[tuple[str, str]] = field(default_factory=set)  # (sub-category, element) of those element-first
    seeds_built: int = 0  # seeds in finished runs' ledgers ...
    pairs_built: int = 0  # ... and the pairs they gave: the observed yield

    def record_used(self, seeds: pd.DataFrame) -> None:
        """Count the seeds of `seeds` (a ledger's or shards' rows) as used."""
        self.used_seeds.update(seeds["seed_id"])
        self.used_elements |= element_first_names(seeds)

    def has_used(self, element: Element) -> bool:
        """Whether a run or release used `element`'s element-first seed, under any category name."""
        return (element_first_id(element.category, element.sub_category, element.element) in self.used_seeds
                or (element.sub_category, element.element) in self.used_elements)


PAIR_COLUMNS = ["id", "seed_id", "sub_category"]
SEED_COLUMNS = ["seed_id", "category", "sub_category", "element"]


def element_first_id(category: str, sub_category: str, element: str) -> str:
    """The id of the element-first seed of these names (`Seed.id`: no pool image, source "generation")."""
    return Seed.model_construct(category=category, sub_category=sub_category,
                                element=Element.model_construct(element=element)).id


def element_first_names(seeds: pd.DataFrame) -> set[tuple[str, str]]:
    """(sub-category, element) of each element-first seed in `seeds`, told by its id being the one those
    names give. A pool image's seed (its id names the image) and a record without the names count by
    their id only, as they did before."""
    if not set(SEED_COLUMNS) <= set(seeds.columns):
        return set()
    rows = seeds[SEED_COLUMNS].drop_duplicates().itertuples(index=False)
    return {(sub, element) for seed, category, sub, element in rows
            if seed == element_first_id(category, sub, element)}


def columns_it_has(path: Path, columns: list[str]) -> pd.DataFrame:
    """Those of `columns` that one Parquet file has."""
    present = set(pq.read_schema(path).names)
    return pd.read_parquet(path, columns=[name for name in columns if name in present])


def release_seeds(release: Path) -> pd.DataFrame:
    frames = [columns_it_has(path, SEED_COLUMNS) for path in shard_paths(release)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SEED_COLUMNS)


def subfolders(parent: Path) -> list[Path]:
    """Run or release folders; dot-folders are a release being staged."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if p.is_dir() and not p.name.startswith("."))


def finished(parent: Path) -> list[Path]:
    """Finished runs or releases: the manifest is written last."""
    return [folder for folder in subfolders(parent) if (folder / "manifest.json").is_file()]


def considered_by(release: Path) -> set[str]:
    """Pair ids a release took in or turned down (final filter, dedup)."""
    ids = set(shard_columns(release, PAIR_COLUMNS)["id"])
    decisions = release / "decisions.parquet"
    if decisions.is_file():
        ids |= set(pd.read_parquet(decisions, columns=["item_id"])["item_id"])
    return ids


def not_rejected(run: Path, pairs: pd.DataFrame) -> pd.DataFrame:
    try:
        review = reviewed_pairs(run)
    except FileNotFoundError:  # not reviewed yet: every candidate may still be accepted
        return pairs
    rejected = set(review.loc[review["review_state"] == "rejected", "id"])
    return pairs[~pairs["id"].isin(rejected)]


def take_inventory(runs_dir: Path, releases_dir: Path, name: str) -> Inventory:
    inventory = Inventory()
    considered: set[str] = set()
    versions = release_versions(releases_dir, name)
    for _, release in versions:
        considered |= considered_by(release)
    if versions:
        inventory.released.update(shard_columns(versions[-1][1], PAIR_COLUMNS)["sub_category"])
    for release in finished(releases_dir):
        inventory.record_used(release_seeds(release))
    pending: dict[str, str] = {}  # by pair id: two runs of the same seeds hold the same pairs
    for run in finished(runs_dir):
        ledger = columns_it_has(run / "ledger.parquet", [*SEED_COLUMNS, "accepted_pairs"])
        inventory.record_used(ledger)
        inventory.seeds_built += len(ledger)
        inventory.pairs_built += int(ledger["accepted_pairs"].sum())
        pairs = shard_columns(run, PAIR_COLUMNS)
        kept = not_rejected(run, pairs[~pairs["id"].isin(considered)])
        pending.update(zip(kept["id"], kept["sub_category"]))
    inventory.pending.update(pending.values())
    return inventory
