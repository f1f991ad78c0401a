"""Reading back the Parquet shards `write_shards` (a run's) and a release's writer wrote under a
folder's `data/`, so every reader takes the same files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def shard_paths(folder: Path) -> list[Path]:
    """The run's or release's shards, in name (= row) order."""
    return sorted((Path(folder) / "data").glob("train-*.parquet"))


def shard_columns(folder: Path, columns: list[str]) -> pd.DataFrame:
    """`columns` of every row of the folder's shards, in shard order; an empty frame of those
    columns where there is no shard."""
    frames = [pd.read_parquet(path, columns=columns) for path in shard_paths(folder)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
