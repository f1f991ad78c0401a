"""Outside benchmarks a release is deduplicated against (`leakless release ... --dedup-against FILE`,
`leakless verify REL --dedup-against FILE`): any file or dataset folder `leakless audit` reads
(`pipeline.io.external.BenchmarkReader`, fields found by their common names), its query and, where it
has one, its image description.

Its rows join the query search as earlier items that are never dropped, by the release's own rule
(`duplicates.py`): a new pair asking a row's query of the same scene is dropped, and a row with no image
description (a text-only benchmark: AdvBench, JailbreakBench) is matched by its query alone, since the
pair's query then repeats that benchmark's prompt whatever the picture. A row is known in the cluster
table and the decisions by `<file name>#<row id>`, and a file in the manifest and the card by its name
and sha256, never its path. Images are not compared: the reader reads none.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.hashing import sha256_file
from pipeline.io.external import ROWS_PER_CHUNK, BenchmarkReader


@dataclass(frozen=True)
class OutsideBenchmark:
    name: str  # the file's or folder's name: a path is local
    sha256: str  # the file's; a folder's: of its shards' `sha256sum` lines, in the order read
    rows: pd.DataFrame  # id (`<name>#<row id>`), instruction, image_description ("" for none), released_in
    unreadable: int  # rows the reader could not read, which nothing was checked against

    def entry(self) -> dict:
        """What the manifest (`dedup_against`) and the card say of it."""
        return {"file": self.name, "sha256": self.sha256, "rows": len(self.rows), "unreadable": self.unreadable}


def read_outside(paths: list[Path]) -> list[OutsideBenchmark]:
    """Every given benchmark's rows; a file that cannot be read, or two of one name, is a ValueError."""
    benchmarks = [read_one(Path(path)) for path in paths]
    names = [benchmark.name for benchmark in benchmarks]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"--dedup-against: two files named {twice[0]} (the release names each by its name "
                         "alone): rename one")
    return benchmarks


def read_one(path: Path) -> OutsideBenchmark:
    reader = BenchmarkReader(path, require_description=False)
    rows, unreadable, seen = [], 0, set()
    for chunk, rejects in reader.chunks(ROWS_PER_CHUNK):
        for row in chunk:
            # every row is checked against: one whose id an earlier row has (a dataset folder's shards each
            # counting from 0) is known by its place instead
            key = f"{path.name}#{row.id}" if row.id not in seen else f"{path.name}#{row.id} ({row.position})"
            seen.add(row.id)
            rows.append((key, row.query, row.image_description))
        unreadable += len(rejects)
    if not rows:
        raise ValueError(f"{path}: none of its {unreadable} rows can be read (leakless audit {path} lists why)")
    frame = pd.DataFrame(rows, columns=["id", "instruction", "image_description"]).assign(released_in=path.name)
    return OutsideBenchmark(path.name, digest(path, reader.files), frame, unreadable)


def digest(path: Path, files: list[str] | None) -> str:
    if files is None:
        return sha256_file(path)
    sums = "".join(f"{sha256_file(path / name)}  {name}\n" for name in files)
    return hashlib.sha256(sums.encode("utf-8")).hexdigest()


def outside_rows(benchmarks: list[OutsideBenchmark]) -> pd.DataFrame:
    """Every benchmark's rows, in the order given."""
    frames = [benchmark.rows for benchmark in benchmarks]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["id", "instruction", "image_description", "released_in"])


def outside_notes(benchmarks: list[OutsideBenchmark]) -> list[str]:
    """A note for each benchmark with rows the reader skipped: no pair was checked against them."""
    return [f"{benchmark.unreadable} unreadable row(s) of {benchmark.name} skipped: nothing was checked against "
            f"them (`leakless audit` on the file lists them)" for benchmark in benchmarks if benchmark.unreadable]
