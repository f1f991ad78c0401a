"""A run's Parquet shards: every pair lands in exactly one shard, with every field of the schema, a
shard that fails to write leaves no file behind, and the manifest counts what the files hold."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from pipeline.writers import shards
from pipeline.writers.shard_reader import shard_columns, shard_paths
from pipeline.writers.shards import PAIR_FIELDS, write_manifest, write_shards
from tests.support.release_runs import pair_row


def test_a_last_partial_shard_is_written_and_every_row_is_read_back_once_in_id_order(tmp_path):
    rows = [pair_row(i, "r1") for i in (4, 0, 3, 1, 2)]

    paths = write_shards(rows, tmp_path / "data", rows_per_shard=2)

    assert [path.name for path in paths] == [f"train-{i:05d}-of-00003.parquet" for i in range(3)]
    assert shard_paths(tmp_path) == paths
    assert list(shard_columns(tmp_path, ["id"])["id"]) == [f"r1-pair{i:03d}" for i in range(5)]


def test_every_field_of_a_pair_is_written_with_its_value(tmp_path):
    row = pair_row(7, "r1") | {"image_model": "stabilityai/stable-diffusion-3.5-large", "seed_model": "qwen"}

    [path] = write_shards([row], tmp_path / "data", rows_per_shard=10)

    table = pq.read_table(path)
    assert table.schema.names == [name for name, _ in PAIR_FIELDS]
    assert table.to_pylist() == [row]


def test_the_schema_tells_datasets_the_image_and_the_score_types(tmp_path):
    [path] = write_shards([pair_row(0, "r1")], tmp_path / "data", rows_per_shard=10)

    features = json.loads(pq.read_schema(path).metadata[b"huggingface"])["info"]["features"]
    assert features["image"] == {"_type": "Image"}
    assert features["leak_score"] == {"dtype": "float64", "_type": "Value"}
    assert features["image_model"] == {"dtype": "string", "_type": "Value"}


def test_a_shard_that_fails_to_write_leaves_no_shard_file(tmp_path, monkeypatch):
    def disk_full(table, where, **options):
        with open(where, "wb") as half:
            half.write(b"PAR1 half a shard")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shards.pq, "write_table", disk_full)
    with pytest.raises(OSError):
        write_shards([pair_row(0, "r1")], tmp_path / "data", rows_per_shard=10)

    assert shard_paths(tmp_path) == []
    assert list((tmp_path / "data").iterdir()) == []


def test_the_manifest_counts_each_shards_rows(tmp_path):
    rows = [pair_row(i, "r1") for i in range(5)]
    paths = write_shards(rows, tmp_path / "data", rows_per_shard=2)

    manifest = write_manifest(tmp_path / "manifest.json", rows=rows, shards=paths, config={})

    assert manifest["rows"] == 5
    assert [shard["rows"] for shard in manifest["shards"]] == [2, 2, 1]
    assert json.loads((tmp_path / "manifest.json").read_text())["shards"] == manifest["shards"]
