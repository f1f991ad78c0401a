"""mut15: mutations of pipeline/io that the quick tests let through."""

from __future__ import annotations

import pytest

from pipeline.io.folders import open_benchmark
from pipeline.io.records import open_records
from tests.io.test_dataset_folders import hub_snapshot, rows


def test_a_hidden_folders_parquet_files_are_not_read(tmp_path):
    # FO6: without the hidden-folder rule a copy under .cache/ was read as more rows of the split
    folder = hub_snapshot(tmp_path / "snap", splits=("test",), shards=1)
    (folder / ".cache" / "data").mkdir(parents=True)
    rows("cached-").to_parquet(folder / ".cache" / "data" / "test-00000-of-00001.parquet")
    stream = open_benchmark(folder)
    assert stream.files == ["data/test-00000-of-00001.parquet"] and stream.total == 3


def test_a_json_file_half_of_whose_lines_are_objects_is_not_taken_for_json_lines(tmp_path):
    # J1: "more than half" -> "half or more": a broken two-line JSON document was read as JSON lines
    path = tmp_path / "broken.json"
    path.write_text('oops\n{"id": "a", "query": "q"}\n')
    with pytest.raises(ValueError):
        stream = open_records(path)
        list(stream.entries)
