"""Reading a release for evaluation: its pairs in release order, a shard's row group at a time,
so a release of many GB of images is never in memory at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.writers.shard_reader import shard_paths

READ_ROWS = 100
TEXT_COLUMNS = ["id", "instruction_id", "instruction", "category", "sub_category", "image_description",
                "safety_reason"]


@dataclass(frozen=True)
class Pair:
    id: str
    instruction_id: int
    instruction: str
    category: str
    sub_category: str
    image_description: str
    safety_reason: str
    image_png: bytes | None  # None when read for a text-only run


def release_shards(release_dir: Path) -> list[Path]:
    shards = shard_paths(release_dir)
    if not shards:
        raise FileNotFoundError(f"{release_dir} has no data/train-*.parquet shards")
    return shards


def read_pairs(release_dir: Path, *, images: bool = True) -> Iterator[Pair]:
    """Every pair of the release, with its image bytes if asked."""
    columns = TEXT_COLUMNS + (["image"] if images else [])
    for shard in release_shards(release_dir):
        for batch in pq.ParquetFile(shard).iter_batches(batch_size=READ_ROWS, columns=columns):
            for row in batch.to_pylist():
                image = row.pop("image", None) or {}
                texts = {name: row[name] or "" for name in TEXT_COLUMNS if name != "instruction_id"}
                yield Pair(**texts, instruction_id=row["instruction_id"], image_png=image.get("bytes"))


def pair_ids(release_dir: Path) -> list[str]:
    return [value for shard in release_shards(release_dir)
            for value in pq.read_table(shard, columns=["id"])["id"].to_pylist()]


def pair_categories(release_dir: Path) -> dict[str, str]:
    """pair id -> category for every pair of the release, in release order: what the leaderboard counts
    coverage against (a pair with no row in a model's file is unjudged, not absent)."""
    return {row["id"]: row["category"] for shard in release_shards(release_dir)
            for row in pq.read_table(shard, columns=["id", "category"]).to_pylist()}
