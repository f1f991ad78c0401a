"""The shard writer splits tables where the image bytes would pass the cap, and loses no row at a split:
the rows written are the rows read back, in order, every shard under the cap."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.release.schema import RELEASE_SCHEMA
from pipeline.release.writer import ShardWriter

IMAGE = b"\x89PNG" + b"\0" * 96  # 100 bytes: only the byte count matters to the writer


def table_of(ids: list[str]) -> pa.Table:
    return pa.Table.from_pylist([{"id": row_id, "image": {"bytes": IMAGE, "path": f"{row_id}.png"}}
                                 for row_id in ids], schema=RELEASE_SCHEMA)


def test_rows_in_equal_rows_out_across_shard_splits(tmp_path):
    tables = [[f"t{t}-r{r}" for r in range(size)] for t, size in enumerate((5, 1, 7))]
    writer = ShardWriter(tmp_path, max_shard_bytes=250)  # two images a shard
    for ids in tables:
        writer.write(table_of(ids))
    shards = writer.finish()

    read_back = [pq.read_table(shard, columns=["id"])["id"].to_pylist() for shard in shards]
    assert [row_id for shard in read_back for row_id in shard] == [row_id for ids in tables for row_id in ids]
    assert all(1 <= len(shard) <= 2 for shard in read_back) and len(shards) == 7
