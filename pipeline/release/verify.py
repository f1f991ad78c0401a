"""`leakless verify`: is a release folder what its manifest says, and clean?

Checks, shard by shard: the files match the manifest (set, sha256, row count),
the schema is the release schema, every image decodes, ids and instruction ids
are unique, no two rows are duplicates by the release's own definition
(`duplicates.py`, with the thresholds the release was built with: pairs of one
seed share its image on purpose), and each instruction's stored leak score is
the detector's score of that text (`leak_check.py`).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.backends.base import Embedder
from pipeline.dedup import image_hashes
from pipeline.hashing import sha256_file
from pipeline.release.duplicates import image_duplicates, no_earlier_rows, query_duplicates
from pipeline.release.leak_check import score_problems
from pipeline.release.schema import RELEASE_SCHEMA, SELECTED_SCHEMA
from pipeline.release.select import shard_paths

READ_ROWS = 100
CHECKED_COLUMNS = ["id", "seed_id", "instruction_id", "instruction", "image_description", "category", "sub_category",
                   "element", "leak_score", "leak_threshold", "leak_verdict", "harm_verdict", "detector_version",
                   "override_reason", "image"]


def load_manifest(folder: Path) -> dict:
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a release (no manifest.json)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a release manifest ({error})") from None


def verify_release(folder: Path, embedder: Embedder, detector=None, notes: list[str] | None = None) -> list[str]:
    """Every problem found, one line each; an empty list means the release is sound. What could not
    be checked (rows scored by another detector version) goes to `notes`."""
    folder = Path(folder)
    manifest = load_manifest(folder)
    listed = {entry["file"]: entry for entry in manifest["shards"]}
    on_disk = {f"data/{path.name}" for path in shard_paths(folder)}
    problems = [f"{file}: listed in the manifest but missing" for file in sorted(listed.keys() - on_disk)]
    problems += [f"{file}: not in the manifest" for file in sorted(on_disk - listed.keys())]

    rows: list[dict] = []
    for file in sorted(listed.keys() & on_disk):
        path, entry = folder / file, listed[file]
        if sha256_file(path) != entry["sha256"]:
            problems.append(f"{file}: sha256 differs from the manifest")
        try:
            problems += check_shard(file, pq.ParquetFile(path), entry["rows"], rows)
        except (pa.ArrowException, OSError) as error:
            problems.append(f"{file}: unreadable ({str(error).splitlines()[0]})")

    problems += totals_problems(manifest, rows) if not any("unreadable" in p for p in problems) else []
    if not (folder / "README.md").is_file():
        problems.append("README.md (the dataset card) is missing")
    problems += [f"id {key!r} appears {count} times" for key, count in Counter(r["id"] for r in rows).items()
                 if count > 1]
    problems += [f"instruction_id {key} appears {count} times"
                 for key, count in Counter(r["instruction_id"] for r in rows).items() if count > 1]
    options = manifest.get("options", {})
    images = image_duplicates([row for row in rows if row["_phash"] is not None], no_earlier_rows(),
                              max_phash=options.get("max_phash", 8), max_dhash=options.get("max_dhash", 8))
    texts = query_duplicates(rows, no_earlier_rows(), embedder, threshold=options.get("query_threshold", 0.95))
    for row in images.clusters + texts.clusters:
        if row.duplicate_of is not None:
            problems.append(f"{row.kind} near-duplicate: {row.item_id} ~ {row.duplicate_of} "
                            f"({row.method}, distance {row.distance:.3g})")
    if detector is None:
        from pipeline.detect.detector import LeakDetector
        detector = LeakDetector(embedder)
    scored, unchecked = score_problems(rows, detector)
    problems += scored
    if unchecked and notes is not None:
        notes.append(f"{unchecked} row(s) were scored by another detector version than {detector.version}; "
                     "their leak scores were not re-checked")
    return problems


def totals_problems(manifest: dict, rows: list[dict]) -> list[str]:
    """The manifest's row total and per-category counts against the rows the shards hold."""
    problems = []
    if "rows" in manifest and manifest["rows"] != len(rows):
        problems.append(f"manifest.json: {manifest['rows']} rows, the shards hold {len(rows)}")
    counts = manifest.get("counts", {})
    found = {"category": Counter(row["category"] for row in rows),
             "sub_category": Counter(f"{row['category']}/{row['sub_category']}" for row in rows)}
    for level, listed in counts.items():
        if level in found and dict(found[level]) != listed:
            problems.append(f"manifest.json: counts per {level} differ from the shards' rows")
    return problems


def check_shard(file: str, shard: pq.ParquetFile, expected_rows: int, rows: list[dict]) -> list[str]:
    """The shard's own problems; appends its rows (image replaced by its hashes) to `rows`."""
    problems = []
    if shard.metadata.num_rows != expected_rows:
        problems.append(f"{file}: {shard.metadata.num_rows} rows, the manifest says {expected_rows}")
    found = [(field.name, field.type) for field in shard.schema_arrow]
    if all(found != [(field.name, field.type) for field in schema] for schema in (RELEASE_SCHEMA, SELECTED_SCHEMA)):
        problems.append(f"{file}: schema differs from the release schema")
        return problems
    for batch in shard.iter_batches(batch_size=READ_ROWS, columns=CHECKED_COLUMNS):
        for row in batch.to_pylist():
            hashes = decoded_hash(file, row, problems)
            row["_phash"], row["_dhash"] = hashes if hashes is not None else (None, None)
            row["instruction"] = row["instruction"] or ""
            del row["image"]
            rows.append(row)
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
