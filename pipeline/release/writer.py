"""Release rows -> Parquet shards of at most `max_shard_bytes` of images each.

Rows arrive as Arrow tables, one source shard at a time, so memory stays at
about one source shard. PNG bytes do not compress, so the image bytes are
stored plain (no codec, no dictionary, no statistics) and only the text
columns are zstd-compressed; that is what keeps the write near disk speed.
Shards are written under part names and renamed to
`train-XXXXX-of-YYYYY.parquet` once their count is known.
"""

from __future__ import annotations

import itertools
import os
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.hashing import sha256_file
from pipeline.release.schema import META_SCHEMA, RELEASE_SCHEMA
from pipeline.run_records import code_version
from pipeline.storage import atomic_write_json, atomic_write_text
from pipeline.writers.shards import package_versions

IMAGE_BYTES = "image.bytes"
ROW_GROUP_ROWS = 100  # small row groups keep one group of images in memory when reading
TEXT_COLUMNS = [*META_SCHEMA.names, "image.path"]
INDEX_FILE = "dedup_index.parquet"  # id, seed_id, phash, dhash, instruction of every released row


def release_tables(rows: list[dict], sources: list[Path]) -> Iterator[pa.Table]:
    """The rows with their images, fetched from the source shards (rows grouped by source, in order)."""
    for source, group in itertools.groupby(rows, key=lambda row: row["_source"]):
        group = list(group)
        numbers = pa.array([row["_row"] for row in group], pa.int64())
        images = without_paths(pq.read_table(sources[source], columns=["image"])["image"].take(numbers))
        meta = pa.Table.from_pylist(group, schema=META_SCHEMA)
        yield pa.Table.from_arrays([images if name == "image" else meta[name] for name in RELEASE_SCHEMA.names],
                                   schema=RELEASE_SCHEMA)


def without_paths(images: pa.ChunkedArray) -> pa.StructArray:
    """The image structs with a null `path`: a run's is its own `images/<seed>.png`, which no release
    ships, so a reader following it finds nothing; the image is its `bytes`, which `datasets` decodes."""
    images = images.combine_chunks()
    return pa.StructArray.from_arrays([images.field("bytes"), pa.nulls(len(images), pa.string())],
                                      fields=list(images.type), mask=images.is_null())


def image_sizes(table: pa.Table) -> np.ndarray:
    lengths = pc.binary_length(table["image"].combine_chunks().field("bytes"))
    return pc.fill_null(lengths, 0).to_numpy(zero_copy_only=False)


class ShardWriter:
    """Appends tables, starting a new shard before the images would pass `max_shard_bytes`
    (a single larger image gets a shard of its own)."""

    def __init__(self, out_dir: Path, max_shard_bytes: int, schema: pa.Schema = RELEASE_SCHEMA):
        self.out_dir = Path(out_dir)
        self.max_shard_bytes = max_shard_bytes
        self.schema = schema
        self.parts: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._bytes = 0

    def write(self, table: pa.Table) -> None:
        start = 0
        for end, size in enumerate(image_sizes(table)):
            if self._bytes and self._bytes + size > self.max_shard_bytes:
                self._append(table.slice(start, end - start))
                self._close()
                start = end
            self._bytes += int(size)
        self._append(table.slice(start))

    def finish(self) -> list[Path]:
        """Close the last shard and give every shard its final name."""
        self._close()
        count = len(self.parts)
        final = [self.out_dir / f"train-{index:05d}-of-{count:05d}.parquet" for index in range(count)]
        for part, path in zip(self.parts, final):
            part.rename(path)
        return final

    def _append(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if self._writer is None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self.parts.append(self.out_dir / f".part-{len(self.parts):05d}.parquet")
            self._writer = pq.ParquetWriter(
                self.parts[-1], self.schema, compression={**dict.fromkeys(TEXT_COLUMNS, "zstd"), IMAGE_BYTES: "none"},
                use_dictionary=TEXT_COLUMNS, write_statistics=TEXT_COLUMNS)
        self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._bytes = 0


def write_release_shards(tables: Iterable[pa.Table], out_dir: Path, max_shard_bytes: int) -> list[Path]:
    writer = ShardWriter(out_dir, max_shard_bytes)
    for table in tables:
        writer.write(table)
    return writer.finish()


def write_dedup_index(rows: list[dict], path: Path) -> None:
    """What a later release needs to dedup against this one, without reading its images."""
    table = pa.table({
        "id": pa.array([row["id"] for row in rows], pa.string()),
        "seed_id": pa.array([row["seed_id"] for row in rows], pa.string()),
        "instruction_id": pa.array([row["instruction_id"] for row in rows], pa.int64()),
        "phash": pa.array([row["_phash"] for row in rows], pa.uint64()),
        "dhash": pa.array([row["_dhash"] for row in rows], pa.uint64()),
        "instruction": pa.array([row["instruction"] for row in rows], pa.string()),
    })
    pq.write_table(table, path, compression="zstd")


# Bumped when what a manifest must hold grows; 2: `files` lists every file and `runs` counts each run's rows;
# 3: each of `runs` holds its `build` record, and SHA256SUMS sits beside the manifest.
MANIFEST_FORMAT = 3
SUMS_FORMAT = 3  # the first manifest format written beside a SHA256SUMS


def run_entries(rows: list[dict], run_ids: list[str], version: int, builds: dict[str, dict]) -> list[dict]:
    """The manifest's `runs`: every run the rows came from, carried ones first, then the runs this version
    took new pairs from (one that gave none included), each with its new and carried row counts and what
    made it (`builds`, by run id: `provenance.run_build`)."""
    new = Counter(row["run_id"] for row in rows if row["added_in"] == version)
    carried = Counter(row["run_id"] for row in rows if row["added_in"] != version)
    return [{"run_id": run_id, "new": new[run_id], "carried": carried[run_id], "build": builds.get(run_id)}
            for run_id in dict.fromkeys([*carried, *run_ids, *new])]


def release_manifest(rows: list[dict], shards: list[Path], **fields) -> dict:
    """Counts per category and sub-category, each shard's sha256 and row count, plus `fields`."""
    per_category = Counter(row["category"] for row in rows)
    per_sub = Counter(f"{row['category']}/{row['sub_category']}" for row in rows)
    return {
        **{key: fields.pop(key) for key in ("name", "version") if key in fields},
        "manifest_format": MANIFEST_FORMAT,
        "rows": len(rows),
        "counts": {"category": dict(sorted(per_category.items())),
                   "sub_category": dict(sorted(per_sub.items()))},
        "shards": [{"file": f"data/{shard.name}", "sha256": sha256_file(shard),
                    "rows": pq.ParquetFile(shard).metadata.num_rows, "bytes": shard.stat().st_size}
                   for shard in shards],
        "schema": {field.name: str(field.type) for field in RELEASE_SCHEMA},
        "packages": package_versions(),  # the release machine's; each run's own are in `runs[].build`
        "code": code_version(),
        **fields,
    }


MANIFEST = "manifest.json"
CARD = "README.md"  # the dataset card
SUMS = "SHA256SUMS"  # `sha256sum -c SHA256SUMS` in the release folder checks every file, the manifest included


def seal(folder: Path, manifest: dict) -> None:
    """Write the manifest, with `files` listing every other file, then SHA256SUMS over all of them."""
    manifest["files"] = file_entries(folder)
    atomic_write_json(folder / MANIFEST, manifest)
    sums = {entry["file"]: entry["sha256"] for entry in manifest["files"]} | {MANIFEST: sha256_file(folder / MANIFEST)}
    atomic_write_text(folder / SUMS, "".join(f"{digest}  {file}\n" for file, digest in sorted(sums.items())))


def read_sums(folder: Path) -> dict[str, str]:
    """SHA256SUMS as file -> sha256; a line not in `sha256sum`'s form is a ValueError."""
    sums = {}
    for line in (Path(folder) / SUMS).read_text(encoding="utf-8").splitlines():
        digest, _, file = line.partition("  ")
        if len(digest) != 64 or not file:
            raise ValueError(f"{SUMS}: a line not in sha256sum's form ({line[:80]!r})")
        sums[file] = digest
    return sums


def file_entries(folder: Path) -> list[dict]:
    """sha256 and size of every file of a release folder but the manifest itself (which cannot hold its own
    checksum) and SHA256SUMS (which holds the manifest's), by path relative to the folder, sorted: the
    manifest's `files`, checked by `verify`."""
    folder = Path(folder)
    return [{"file": path.relative_to(folder).as_posix(), "sha256": sha256_file(path), "bytes": path.stat().st_size}
            for path in sorted(release_files(folder), key=lambda path: path.relative_to(folder).as_posix())]


def release_files(folder: Path) -> list[Path]:
    """Every entry under a release folder but its folders, its manifest and SHA256SUMS: files, hidden ones
    included, and links, devices and FIFOs (never read: `not_plain` names them, so `verify` reports them)."""
    return [path for path in Path(folder).rglob("*")
            if not stat.S_ISDIR(path.lstat().st_mode) and path.relative_to(folder).as_posix() not in (MANIFEST, SUMS)]


def not_plain(path: Path) -> str | None:
    """What a release entry is when it is neither a plain file nor a folder, else None (also when nothing is
    there). A release is written as plain files only; a link may lead out of the folder and a device or FIFO
    may never end, so no check reads one."""
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISLNK(mode):
        return f"a link to {os.readlink(path)!r}"  # quoted: a target may hold a newline
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else "a device, FIFO or socket"


def plain_file(path: Path) -> bool:
    """A regular file itself, not a link to one: the only kind of entry the release checks read."""
    return path.is_file() and not path.is_symlink()
