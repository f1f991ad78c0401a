"""A Hugging Face dataset folder read as one benchmark: Parquet shards named as the Hub names them and
`datasets` save_to_disk folders, made here by `datasets` itself; one split at a time, shard after shard,
each position naming its shard."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.detect.evaluate import read_labelled
from pipeline.io.external import BenchmarkReader, read_rows

datasets = pytest.importorskip("datasets")


def rows(prefix: str, count: int = 3, broken: int | None = None, ids: bool = True) -> "datasets.Dataset":
    """`count` readable pairs; row `broken` (0-based) has no query."""
    queries = [None if number == broken else f"How do I bake cake {prefix}{number}?" for number in range(count)]
    columns = {"query": queries, "caption": ["A cake on a table."] * count, "label": [0] * count}
    return datasets.Dataset.from_dict({"id": [f"{prefix}{n}" for n in range(count)], **columns} if ids else columns)


def hub_snapshot(folder: Path, splits=("train", "test"), shards: int = 2, **kwargs) -> Path:
    """`data/<split>-0000k-of-0000n.parquet`, as push_to_hub writes and snapshot_download fetches them."""
    (folder / "data").mkdir(parents=True)
    (folder / "README.md").write_text("---\nlicense: mit\n---\n")
    for split in splits:
        for shard in range(shards):
            rows(f"{split}{shard}-", **kwargs).to_parquet(folder / "data" / f"{split}-{shard:05d}-of-{shards:05d}.parquet")
    return folder


def read_all(reader: BenchmarkReader, size: int = 2):
    read, rejected = [], []
    for chunk, bad in reader.chunks(size):
        read.extend(chunk)
        rejected.extend(bad)
    return read, rejected


def test_a_folder_of_train_and_test_shards_is_refused_naming_its_splits(tmp_path):
    folder = hub_snapshot(tmp_path / "hf")
    with pytest.raises(ValueError) as refused:
        BenchmarkReader(folder, require_description=False)
    assert str(refused.value) == (f"{folder}: holds 2 splits, test (2 files), train (2 files): choose one with "
                                  "--split (e.g. --split test), so that no two are read as one")
    with pytest.raises(ValueError, match=r"no split 'dev' \(splits: test, train\)$"):
        BenchmarkReader(folder, split="dev")


def test_one_split_is_read_as_one_benchmark_its_shards_in_name_order_each_position_naming_its_shard(tmp_path):
    folder = hub_snapshot(tmp_path / "hf", broken=2)
    reader = BenchmarkReader(folder, split="test")
    assert reader.files == ["data/test-00000-of-00002.parquet", "data/test-00001-of-00002.parquet"]
    assert reader.total == 6 and reader.fields["query"] == "query"
    read, rejected = read_all(reader)
    assert [row.id for row in read] == ["test0-0", "test0-1", "test1-0", "test1-1"]
    assert str(read[2].position) == "data/test-00001-of-00002.parquet row 1"
    assert [reject.describe() for reject in rejected] == [
        "data/test-00000-of-00002.parquet row 3 (id test0-2): `query` is null",
        "data/test-00001-of-00002.parquet row 3 (id test1-2): `query` is null"]
    assert json.loads(rejected[1].json_line()) == {"file": "data/test-00001-of-00002.parquet", "row": 3,
                                                   "id": "test1-2", "reason": "`query` is null"}


def test_a_folder_of_one_split_needs_no_split_and_rows_without_ids_are_named_by_shard_and_row(tmp_path):
    folder = hub_snapshot(tmp_path / "hf", splits=("test",), ids=False)
    read, _ = read_rows(folder, require_description=False)
    ids = [row.id for row in read]
    assert ids[0] == "data/test-00000-of-00002.parquet row 1" and ids[3] == "data/test-00001-of-00002.parquet row 1"
    assert len(set(ids)) == 6  # each shard counts from 1: a bare number would repeat


def test_shards_named_with_a_fingerprint_after_their_number_are_one_split(tmp_path):
    """Older push_to_hub wrote `data/test-00000-of-00002-<fingerprint>.parquet`."""
    folder = tmp_path / "hf"
    (folder / "data").mkdir(parents=True)
    names = ["test-00000-of-00002-9c5ad2d0dd1a5d43", "test-00001-of-00002-1f0e2a7b3c4d5e6f",
             "train-00000-of-00001-abc123def456"]
    for number, name in enumerate(names):
        rows(f"{name[:name.index('-')]}{number}-").to_parquet(folder / "data" / f"{name}.parquet")
    with pytest.raises(ValueError, match=r"holds 2 splits, test \(2 files\), train \(1 file\): choose one"):
        BenchmarkReader(folder)
    reader = BenchmarkReader(folder, split="test")
    assert reader.files == [f"data/{name}.parquet" for name in names[:2]] and reader.total == 6
    assert [row.id for row in read_all(reader)[0]] == ["test0-0", "test0-1", "test0-2", "test1-0", "test1-1", "test1-2"]


@pytest.mark.parametrize("link, target", [
    ("data/up", ".."),     # a loop back to the folder
    ("data/top", "../.."),  # above it, a loop too, and where other benchmarks sit
    ("alias", "data"),     # the same folder under another name, listed first
])
def test_symlinked_folders_are_read_once_never_back_up_into_a_loop(tmp_path, link, target):
    folder = hub_snapshot(tmp_path / "hf", splits=("test",), shards=1)
    rows("other").to_parquet(tmp_path / "train-00000-of-00001.parquet")
    (folder / link).symlink_to(target)
    assert BenchmarkReader(folder).files == ["data/test-00000-of-00001.parquet"]


def test_a_snapshots_files_and_folders_linked_from_elsewhere_are_read(tmp_path):
    """snapshot_download links each file to its blob; a folder may be linked in from another disk."""
    (tmp_path / "blobs").mkdir()
    rows("test").to_parquet(tmp_path / "blobs" / "9c5ad2d0")
    (tmp_path / "elsewhere").mkdir()
    rows("train").to_parquet(tmp_path / "elsewhere" / "train-00000-of-00001.parquet")
    folder = tmp_path / "hf"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "test-00000-of-00001.parquet").symlink_to(tmp_path / "blobs" / "9c5ad2d0")
    (folder / "second").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match=r"holds 2 splits, data/test \(1 file\), second/train \(1 file\): choose"):
        BenchmarkReader(folder)
    assert [row.id for row in read_all(BenchmarkReader(folder, split="second/train"))[0]] == ["train0", "train1", "train2"]


def test_a_refusal_naming_many_splits_stays_one_short_line(tmp_path):
    folder = tmp_path / "hf"
    (folder / "data").mkdir(parents=True)
    for number in range(12):
        rows(f"s{number}", count=1).to_parquet(folder / "data" / f"split{number:02d}.parquet")
    with pytest.raises(ValueError) as refused:
        BenchmarkReader(folder)
    assert str(refused.value) == (f"{folder}: holds 12 splits, " + ", ".join(f"split{n:02d} (1 file)" for n in range(10)) +
                                  ", ... and 2 more: choose one with --split (e.g. --split split00), "
                                  "so that no two are read as one")
    with pytest.raises(ValueError, match=r"no split 'test' \(splits: split00, .*, split09, \.\.\. and 2 more\)$"):
        BenchmarkReader(folder, split="test")


def test_the_hubs_parquet_conversion_names_its_splits_by_folder_and_configs_apart(tmp_path):
    for config in ("first", "second"):
        for split in ("test", "train"):
            (tmp_path / "hf" / config / split).mkdir(parents=True)
            rows(f"{config}-{split}").to_parquet(tmp_path / "hf" / config / split / "0000.parquet")
    with pytest.raises(ValueError, match="holds 4 splits, first/test .*, first/train .*, second/test .*, second/train"):
        BenchmarkReader(tmp_path / "hf")
    assert BenchmarkReader(tmp_path / "hf", split="second/test").files == ["second/test/0000.parquet"]
    assert BenchmarkReader(tmp_path / "hf" / "first" / "test").files == ["0000.parquet"]  # the split's own folder


def test_a_save_to_disk_dataset_is_read_from_its_arrow_files_in_its_state_order(tmp_path):
    rows("s", count=4, broken=2).save_to_disk(tmp_path / "saved", num_shards=2)
    reader = BenchmarkReader(tmp_path / "saved")
    assert reader.files == ["data-00000-of-00002.arrow", "data-00001-of-00002.arrow"] and reader.total == 4
    read, rejected = read_all(reader, size=3)
    assert [(row.id, str(row.position)) for row in read] == [
        ("s0", "data-00000-of-00002.arrow row 1"), ("s1", "data-00000-of-00002.arrow row 2"),
        ("s3", "data-00001-of-00002.arrow row 2")]
    assert [reject.describe() for reject in rejected] == ["data-00001-of-00002.arrow row 1 (id s2): `query` is null"]
    with pytest.raises(ValueError, match=r"saved: no split 'test' \(the folder has no splits\)$"):
        BenchmarkReader(tmp_path / "saved", split="test")
    with pytest.raises(ValueError, match="is a shard of a datasets save_to_disk folder: name the folder"):
        BenchmarkReader(tmp_path / "saved" / "data-00000-of-00002.arrow")


def test_a_saved_dataset_dict_is_one_split_at_a_time(tmp_path):
    datasets.DatasetDict({"train": rows("a", 2), "test": rows("b", 3)}).save_to_disk(tmp_path / "dd")
    with pytest.raises(ValueError, match=r"holds 2 splits, train \(1 file\), test \(1 file\): choose one with --split"):
        BenchmarkReader(tmp_path / "dd")
    reader = BenchmarkReader(tmp_path / "dd", split="test")
    assert reader.files == ["test/data-00000-of-00001.arrow"]
    assert [str(row.position) for row in read_all(reader)[0]][-1] == "test/data-00000-of-00001.arrow row 3"


def test_eval_detector_reads_a_labelled_split(tmp_path):
    folder = hub_snapshot(tmp_path / "hf")
    read, _ = read_labelled(folder, None, None, None, None, split="train")
    assert [row.id for row in read][:3] == ["train0-0", "train0-1", "train0-2"] and len(read) == 6


def test_shards_are_opened_as_they_are_reached(tmp_path):
    folder = hub_snapshot(tmp_path / "hf", splits=("test",))
    chunks = BenchmarkReader(folder).chunks(3)
    assert [row.id for row in next(chunks)[0]] == ["test0-0", "test0-1", "test0-2"]
    (folder / "data" / "test-00001-of-00002.parquet").unlink()  # read only now: its rows are not held
    with pytest.raises(ValueError, match="test-00001-of-00002.parquet: no such file"):
        next(chunks)


@pytest.mark.parametrize("files, message", [
    ({}, "this one is empty"),
    ({"data/train.jsonl": "{}\n", "README.md": "x"}, "this one holds neither; its benchmark files: data/train.jsonl"),
    ({"README.md": "x"}, "this one holds neither"),
])
def test_a_folder_without_shards_is_one_line(tmp_path, files, message):
    folder = tmp_path / "hf"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    with pytest.raises(ValueError) as refused:
        BenchmarkReader(folder)
    assert str(refused.value) == (f"{folder}: is a folder; name a benchmark file, or a folder of Parquet shards or "
                                  f"a datasets save_to_disk folder ({message})")


def test_split_names_a_folders_split_not_a_files(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps({"query": "How do I bake a cake?", "caption": "A cake."}) + "\n")
    with pytest.raises(ValueError, match="--split 'test' chooses a split of a dataset folder, and this is a file"):
        BenchmarkReader(path, split="test")


@pytest.mark.slow
def test_audit_of_a_folder_writes_one_table_naming_each_rows_shard(tmp_path):
    folder = hub_snapshot(tmp_path / "hf", broken=2)
    duplicate = rows("test1-", count=1).to_pandas().assign(id="test0-0")  # an id the first shard gave
    duplicate.to_parquet(folder / "data" / "test-00002-of-00002.parquet")  # a third shard, read last
    result = CliRunner().invoke(app, ["audit", str(folder), "--split", "test", "--chunk-size", "2"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "hf.test.leak_audit.parquet"
    table = pq.read_table(out)
    assert table.column_names[:3] == ["id", "position", "file"]
    assert table.select(["file", "position"]).to_pylist()[-1] == {"file": "data/test-00002-of-00002.parquet",
                                                                  "position": 1}
    assert table.num_rows == 5
    rejected = [json.loads(line) for line in (tmp_path / "hf.test.leak_audit.rejects.jsonl").read_text().splitlines()]
    assert [(reject["file"], reject["row"]) for reject in rejected] == [
        ("data/test-00000-of-00002.parquet", 3), ("data/test-00001-of-00002.parquet", 3)]
    assert ("files read (split test), 3: data/test-00000-of-00002.parquet, data/test-00001-of-00002.parquet, "
            "data/test-00002-of-00002.parquet") in result.output
    assert "'test0-0': data/test-00000-of-00002.parquet row 1 and data/test-00002-of-00002.parquet row 1" in result.output
