"""Writing release shards with embedded images: MB/s of the release writer against baselines
measured in the same run on the same bytes.

Payload: 512 rows of 1 MB incompressible image bytes (random, like PNG data as far as
a compressor can tell) in the release schema, streamed as 64-row tables so memory stays
at one table. Timed (median of 3, interleaved):
- release: `ShardWriter` (plain image bytes, zstd text, shards capped at 500 MB);
- write_table: `pyarrow.parquet.write_table` of the same tables with pyarrow's defaults;
- raw copy: the image bytes written to one plain file (the disk's ceiling here).
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.release.make import ReleaseOptions
from pipeline.release.schema import RELEASE_SCHEMA
from pipeline.release.writer import ShardWriter

ROWS, ROWS_PER_TABLE, IMAGE_BYTES, REPEATS = 512, 64, 1_000_000, 3


def payload_table(offset: int, images: list[bytes]) -> pa.Table:
    rows = [{"id": f"pair{offset + i:06d}", "instruction_id": offset + i, "instruction": "a harmless query",
             "image": {"bytes": image, "path": f"images/{offset + i}.png"}, "category": "Violent",
             "sub_category": "Weapon-Related Violence", "leak_score": 0.1, "added_in": 1}
            for i, image in enumerate(images)]
    return pa.Table.from_pylist(rows, schema=RELEASE_SCHEMA)


def tables(images: list[bytes]):
    for offset in range(0, ROWS, ROWS_PER_TABLE):
        yield payload_table(offset, images)


def time_release(images, folder: Path) -> float:
    started = time.perf_counter()
    writer = ShardWriter(folder, ReleaseOptions().max_shard_bytes)
    for table in tables(images):
        writer.write(table)
    writer.finish()
    return time.perf_counter() - started


def time_write_table(images, folder: Path) -> float:
    folder.mkdir(parents=True)
    started = time.perf_counter()
    for index, table in enumerate(tables(images)):
        pq.write_table(table, folder / f"{index}.parquet")
    return time.perf_counter() - started


def time_raw_copy(images, folder: Path) -> float:
    folder.mkdir(parents=True)
    started = time.perf_counter()
    with open(folder / "raw.bin", "wb") as handle:
        for _ in range(0, ROWS, ROWS_PER_TABLE):
            for image in images:
                handle.write(image)
    return time.perf_counter() - started


def main() -> None:
    # no options: the parser answers --help (without starting the run) and refuses a mistyped one
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    rng = np.random.default_rng(0)
    # One table's worth of distinct images, reused per table: Parquet does not dedup values.
    images = [rng.integers(0, 256, IMAGE_BYTES, dtype=np.uint8).tobytes() for _ in range(ROWS_PER_TABLE)]
    total_mb = ROWS * IMAGE_BYTES / 1e6
    seconds = {"release": [], "write_table": [], "raw_copy": []}
    timers = {"release": time_release, "write_table": time_write_table, "raw_copy": time_raw_copy}
    root = Path(tempfile.mkdtemp(prefix="release-bench-"))
    try:
        for repeat in range(REPEATS):
            for name, timer in timers.items():
                folder = root / f"{name}-{repeat}"
                seconds[name].append(timer(images, folder))
                shutil.rmtree(folder)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rate = {name: total_mb / statistics.median(values) for name, values in seconds.items()}
    print(json.dumps({
        "benchmark": "release_write", "image_mb": total_mb, "rows": ROWS, "repeats": REPEATS,
        "cpus": os.cpu_count(),
        "release_mb_per_s": round(rate["release"], 1),
        "write_table_mb_per_s": round(rate["write_table"], 1),
        "raw_copy_mb_per_s": round(rate["raw_copy"], 1),
        "release_vs_write_table": round(rate["release"] / rate["write_table"], 2),
        "release_vs_raw_copy": round(rate["release"] / rate["raw_copy"], 2),
        "meets_150_mb_per_s": rate["release"] >= 150,
    }))


if __name__ == "__main__":
    main()
