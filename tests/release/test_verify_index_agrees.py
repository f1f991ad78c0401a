"""verify holds the dedup index against the shard rows, not just their ids: an image or query swapped and
resealed (shard, manifest and SHA256SUMS rewritten to match) left the index describing what was shipped
before, and passed."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.backends.minilm import default_embedder
from pipeline.hashing import sha256_file
from pipeline.release.make import make_release
from pipeline.release.schema import RELEASE_SCHEMA
from pipeline.release.verify import index_problems, verify_release
from pipeline.release.writer import INDEX_FILE
from tests.support.release_forgery import forge_manifest
from tests.support.release_runs import accepted_run, png

ROWS = [{"id": "a", "_phash": 1, "_dhash": 2, "instruction": "How is it used?"},
        {"id": "b", "_phash": 3, "_dhash": 4, "instruction": "Where is it kept?"}]


def write_index(folder, **columns):
    index = {"id": ["a", "b"], "phash": [1, 3], "dhash": [2, 4], "instruction": ["How is it used?",
                                                                                  "Where is it kept?"]}
    pq.write_table(pa.table({**index, **columns}), folder / INDEX_FILE)


def test_an_index_whose_hashes_or_query_differ_from_the_rows_names_the_id_and_column(tmp_path):
    write_index(tmp_path, phash=[1, 5], dhash=[2, 6], instruction=["How is it stored?", "Where is it kept?"])

    assert index_problems(tmp_path, {"files": []}, ROWS) == [
        f"{INDEX_FILE}: id 'a': instruction differs from the shard row's",
        f"{INDEX_FILE}: id 'b': phash, dhash differ from the shard row's"]


def test_an_index_that_agrees_and_an_undecodable_image_are_no_problem(tmp_path):
    write_index(tmp_path)
    undecodable = [{**ROWS[0], "_phash": None, "_dhash": None}, ROWS[1]]  # its own problem line says so

    assert index_problems(tmp_path, {"files": []}, ROWS) == []
    assert index_problems(tmp_path, {"files": []}, undecodable) == []


def test_an_older_index_is_held_to_the_columns_it_has(tmp_path):
    pq.write_table(pa.table({"id": ["a", "b"], "phash": [1, 9]}), tmp_path / INDEX_FILE)

    assert index_problems(tmp_path, {"files": []}, ROWS) == [f"{INDEX_FILE}: id 'b': phash differs from the shard "
                                                             "row's"]


def reseal_shard(folder, rows):
    """The shard rewritten and every checksum that names it updated: only the dedup index is left as it was."""
    shard = next((folder / "data").glob("train-*.parquet"))
    pq.write_table(pa.Table.from_pylist(rows, schema=RELEASE_SCHEMA), shard)
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = {"file": f"data/{shard.name}", "sha256": sha256_file(shard), "bytes": shard.stat().st_size}
    manifest["shards"][0].update(sha256=entry["sha256"], rows=len(rows), bytes=entry["bytes"])
    manifest["files"] = [e for e in manifest["files"] if e["file"] != entry["file"]] + [entry]
    forge_manifest(folder, manifest)


def test_a_resealed_image_swap_is_caught(tmp_path):
    folder = make_release([accepted_run(tmp_path / "runs", "r1", 3)], name="bench",
                          releases_dir=tmp_path / "releases", embedder=default_embedder())
    rows = pq.read_table(folder / "data").to_pylist()
    rows[0]["image"] = {"bytes": png(99), "path": rows[0]["image"]["path"]}
    reseal_shard(folder, rows)

    assert verify_release(folder, default_embedder()) == [
        f"{INDEX_FILE}: id {rows[0]['id']!r}: phash, dhash differ from the shard row's"]
