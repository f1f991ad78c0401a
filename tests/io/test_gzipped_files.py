"""Gzipped data files read as the file they hold whatever the suffix's case, with the encoding their
reader asks for (a CSV's UTF-8 byte-order mark is no part of its first column's name), and outputs
are named for the data, not the archive."""

from __future__ import annotations

import gzip
from pathlib import Path

from pipeline.io.external import read_benchmark
from pipeline.io.gzipped import Gunzipped, data_stem, data_suffix, shown_suffixes

ROW = b'{"id": "q1", "query": "Where could I keep it?", "caption": "A shelf."}\n'


def test_an_upper_case_gzip_suffix_is_read_as_the_file_it_holds(tmp_path):
    path = tmp_path / "DATA.JSONL.GZ"
    path.write_bytes(gzip.compress(ROW))
    assert data_suffix(path) == ".jsonl" and data_stem(path) == "DATA" and shown_suffixes(path) == ".JSONL.GZ"
    [row] = read_benchmark(path)
    assert (row.id, row.query) == ("q1", "Where could I keep it?")


def test_names_come_from_the_data_inside_the_archive():
    assert (data_suffix(Path("x/data.jsonl.gz")), data_stem(Path("x/data.jsonl.gz"))) == (".jsonl", "data")
    assert (data_suffix(Path("x/data.CSV")), data_stem(Path("x/data.CSV"))) == (".csv", "data")
    assert shown_suffixes(Path("a.b/data.parquet.gz")) == ".parquet.gz"


def test_a_gzipped_csv_with_a_byte_order_mark_keeps_its_first_columns_name(tmp_path):
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress("id,query,caption\nq1,Where is it?,A van.\n".encode("utf-8-sig")))
    [row] = read_benchmark(path, id_field="id")
    assert (row.id, row.query, row.image_description) == ("q1", "Where is it?", "A van.")


def test_a_gzipped_file_is_read_in_the_encoding_asked_for(tmp_path):
    path = tmp_path / "notes.txt.gz"
    path.write_bytes(gzip.compress("café".encode("latin-1")))
    assert Gunzipped(path).read_text(encoding="latin-1") == "café"
