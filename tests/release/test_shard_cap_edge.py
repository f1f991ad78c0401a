"""The shard cap is "at most": images adding up to exactly `max_shard_bytes` share one shard."""

from __future__ import annotations

import pyarrow.parquet as pq

from pipeline.release.writer import ShardWriter
from tests.release.test_shard_split_rows import IMAGE, table_of


def test_images_filling_the_cap_exactly_share_one_shard(tmp_path):
    writer = ShardWriter(tmp_path, max_shard_bytes=3 * len(IMAGE))
    writer.write(table_of(["a", "b", "c", "d"]))

    shards = writer.finish()

    assert [pq.read_table(shard, columns=["id"])["id"].to_pylist() for shard in shards] == [["a", "b", "c"], ["d"]]
