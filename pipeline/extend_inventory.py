"""Extend's inventory: what exists under `runs_dir` and `releases_dir` for one release name.

Pairs in the latest release of the name, pairs still pending, every seed id ever used, and the
yield seen so far (seeds built, pairs they gave). `pipeline.extend` plans from it.

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

from pipeline.release.versions import release_versions
from pipeline.review.importer import reviewed_pairs
from pipeline.writers.shard_reader import shard_columns


@dataclass
class Inventory:
    released: Counter = field(default_factory=Counter)  # sub-category -> pairs in the latest release
    pending: Counter = field(default_factory=Counter)  # sub-category -> pairs awaiting review or release
    used_seeds: set[str] = field(default_factory=set)  # in any finished run's ledger or any release
    seeds_built: int = 0  # seeds in finished runs' ledgers ...
    pairs_built: int = 0  # ... and the pairs they gave: the observed yield


PAIR_COLUMNS = ["id", "seed_id", "sub_category"]


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
        inventory.used_seeds.update(shard_columns(release, PAIR_COLUMNS)["seed_id"])
    pending: dict[str, str] = {}  # by pair id: two runs of the same seeds hold the same pairs
    for run in finished(runs_dir):
        ledger = pd.read_parquet(run / "ledger.parquet", columns=["seed_id", "accepted_pairs"])
        inventory.used_seeds.update(ledger["seed_id"])
        inventory.seeds_built += len(ledger)
        inventory.pairs_built += int(ledger["accepted_pairs"].sum())
        pairs = shard_columns(run, PAIR_COLUMNS)
        kept = not_rejected(run, pairs[~pairs["id"].isin(considered)])
        pending.update(zip(kept["id"], kept["sub_category"]))
    inventory.pending.update(pending.values())
    return inventory
