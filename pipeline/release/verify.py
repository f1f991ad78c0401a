"""`leakless verify`: is a release folder what its manifest says, and clean?

Checks, shard by shard: the files match the manifest (set, sha256, row count),
the schema is the release schema, every image decodes, ids and instruction ids
are unique, and no two rows are near-duplicates (image or query), using the
same rules and thresholds the release was built with.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.backends.base import Embedder
from pipeline.dedup import find_image_duplicates, find_query_duplicates, image_hashes
from pipeline.hashing import sha256_file
from pipeline.release.schema import RELEASE_SCHEMA, SELECTED_SCHEMA
from pipeline.release.select import shard_paths

READ_ROWS = 100


def load_manifest(folder: Path) -> dict:
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a release (no manifest.json)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a release manifest ({error})") from None


def verify_release(folder: Path, embedder: Embedder) -> list[str]:
    """Every problem found, one line each; an empty list means the release is sound."""
    folder = Path(folder)
    manifest = load_manifest(folder)
    listed = {entry["file"]: entry for entry in manifest["shards"]}
    on_disk = {f"data/{path.name}" for path in shard_paths(folder)}
    problems = [f"{file}: listed in the manifest but missing" for file in sorted(listed.keys() - on_disk)]
    problems += [f"{file}: not in the manifest" for file in sorted(on_disk - listed.keys())]

    ids, instruction_ids, queries, hashes = [], [], [], []
    for file in sorted(listed.keys() & on_disk):
        path, entry = folder / file, listed[file]
        if sha256_file(path) != entry["sha256"]:
            problems.append(f"{file}: sha256 differs from the manifest")
        try:
            problems += check_shard(file, pq.ParquetFile(path), entry["rows"], ids, instruction_ids, queries, hashes)
        except (pa.ArrowException, OSError) as error:
            problems.append(f"{file}: unreadable ({str(error).splitlines()[0]})")

    problems += [f"id {key!r} appears {count} times" for key, count in Counter(ids).items() if count > 1]
    problems += [f"instruction_id {key} appears {count} times"
                 for key, count in Counter(instruction_ids).items() if count > 1]
    options = manifest.get("options", {})
    decoded = [(key, value) for key, value in zip(ids, hashes) if value is not None]
    images = find_image_duplicates([key for key, _ in decoded], np.array([value for _, value in decoded], np.uint64),
                                   max_phash=options.get("max_phash", 8), max_dhash=options.get("max_dhash", 8))
    texts = find_query_duplicates(ids, queries, embedder=embedder, threshold=options.get("query_threshold", 0.95))
    for row in images.clusters + texts.clusters:
        if row.duplicate_of is not None:
            problems.append(f"{row.kind} near-duplicate: {row.item_id} ~ {row.duplicate_of} "
                            f"({row.method}, distance {row.distance:.3g})")
    return problems


def check_shard(file: str, shard: pq.ParquetFile, expected_rows: int, ids: list, instruction_ids: list,
                queries: list, hashes: list) -> list[str]:
    """The shard's own problems; appends its ids, queries and image hashes to the lists given."""
    problems = []
    if shard.metadata.num_rows != expected_rows:
        problems.append(f"{file}: {shard.metadata.num_rows} rows, the manifest says {expected_rows}")
    found = [(field.name, field.type) for field in shard.schema_arrow]
    if all(found != [(field.name, field.type) for field in schema] for schema in (RELEASE_SCHEMA, SELECTED_SCHEMA)):
        problems.append(f"{file}: schema differs from the release schema")
        return problems
    for batch in shard.iter_batches(batch_size=READ_ROWS, columns=["id", "instruction_id", "instruction", "image"]):
        for row in batch.to_pylist():
            ids.append(row["id"])
            instruction_ids.append(row["instruction_id"])
            queries.append(row["instruction"] or "")
            hashes.append(decoded_hash(file, row, problems))
    return problems


def decoded_hash(file: str, row: dict, problems: list[str]) -> list[int] | None:
    png = (row["image"] or {}).get("bytes")
    if not png:
        problems.append(f"{file}: row {row['id']} has no image bytes")
        return None
    try:
        return image_hashes([png])[0].tolist()
    except Exception as error:  # Pillow raises many kinds for a broken image
        problems.append(f"{file}: row {row['id']} image does not decode ({type(error).__name__})")
        return None
