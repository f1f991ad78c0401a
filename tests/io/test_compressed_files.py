"""Compressed data files (.gz, .zst, .bz2, .xz) read as the file they hold whatever the suffix's case,
with the encoding their reader asks for (a CSV's UTF-8 byte-order mark is no part of its first column's
name) and the same line numbers; outputs are named for the data, not the archive; a file that is not
in its suffix's format, or is cut short, is one line and exit 2."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import random
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.io.compressed import Decompressed, data_stem, data_suffix, shown_suffixes
from pipeline.io.external import BenchmarkReader, read_benchmark

ROW = b'{"id": "q1", "query": "Where could I keep it?", "caption": "A shelf."}\n'


def zstd_compress(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as stream:
        stream.write(data)
    return sink.getvalue().to_pybytes()


COMPRESSORS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress, ".zst": zstd_compress}
NOT_THE_FORMAT = {".gz": "Not a gzipped file", ".bz2": "Invalid data stream",
                  ".xz": "Input format not supported by decoder", ".zst": "ZSTD decompress failed"}
CUT_SHORT = {".gz": "Compressed file ended before the end-of-stream marker was reached",
             ".bz2": "Compressed file ended before the end-of-stream marker was reached",
             ".xz": "Compressed file ended before the end-of-stream marker was reached",
             ".zst": "Truncated compressed stream"}
each_compression = pytest.mark.parametrize("compression", list(COMPRESSORS))


def compressed(path: Path, compression: str, data: bytes) -> Path:
    target = path.with_name(path.name + compression)
    target.write_bytes(COMPRESSORS[compression](data))
    return target


def many_rows(count: int = 2000) -> bytes:
    """Rows that do not repeat, so that half of the compressed file holds only part of them."""
    words = random.Random(7)
    return "".join(json.dumps({"id": f"q{n}", "query": f"Where is {words.random()}?", "caption": f"A {words.random()}."})
                   + "\n" for n in range(count)).encode()


def audit(*args) -> object:
    return CliRunner().invoke(app, ["audit", *map(str, args)])


def test_an_upper_case_gzip_suffix_is_read_as_the_file_it_holds(tmp_path):
    path = tmp_path / "DATA.JSONL.GZ"
    path.write_bytes(gzip.compress(ROW))
    assert data_suffix(path) == ".jsonl" and data_stem(path) == "DATA" and shown_suffixes(path) == ".JSONL.GZ"
    [row] = read_benchmark(path)
    assert (row.id, row.query) == ("q1", "Where could I keep it?")


def test_names_come_from_the_data_inside_the_archive():
    assert (data_suffix(Path("x/data.jsonl.gz")), data_stem(Path("x/data.jsonl.gz"))) == (".jsonl", "data")
    assert (data_suffix(Path("x/data.jsonl.zst")), data_stem(Path("x/data.jsonl.zst"))) == (".jsonl", "data")
    assert (data_suffix(Path("x/data.CSV.BZ2")), data_stem(Path("x/data.CSV.BZ2"))) == (".csv", "data")
    assert (data_suffix(Path("x/data.CSV")), data_stem(Path("x/data.CSV"))) == (".csv", "data")
    assert shown_suffixes(Path("a.b/data.parquet.gz")) == ".parquet.gz"
    assert shown_suffixes(Path("a.b/data.parquet.xz")) == ".parquet.xz"


@each_compression
@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".csv", ".tsv"])
def test_each_compression_reads_to_the_rows_of_the_plain_file(tmp_path, compression, suffix):
    """`data.jsonl.zst` (The Pile, many Hugging Face dumps), `.bz2` and `.xz` were "unknown format"."""
    rows = [{"id": "q1", "query": "Where could I keep it?", "caption": "A shelf."},
            {"id": "q2", "query": "How do I use this, step by step?", "caption": "A knife, on a table."}]
    if suffix == ".json":
        text = json.dumps(rows)
    elif suffix == ".jsonl":
        text = "".join(json.dumps(row) + "\n" for row in rows)
    else:
        delimiter = "\t" if suffix == ".tsv" else ","
        text = "".join(delimiter.join(f'"{v}"' for v in values) + "\r\n"
                       for values in [list(rows[0]), *(list(row.values()) for row in rows)])
    plain = tmp_path / f"data{suffix}"
    plain.write_bytes(text.encode())
    path = compressed(plain, compression, text.encode())
    assert read_benchmark(path) == read_benchmark(plain) and len(read_benchmark(plain)) == 2


@each_compression
def test_a_reject_inside_a_compressed_csv_names_the_line_an_editor_shows(tmp_path, compression):
    text = ('uid,prompt,caption\n'
            'a,"A question\nover two lines?",C.\n'
            'b,Q?,C.,surplus\n'
            'c,Q?,C.\n')
    path = compressed(tmp_path / "data.csv", compression, text.encode())
    [(rows, rejects)] = list(BenchmarkReader(path).chunks(100))
    assert [(str(r.position), r.reason) for r in rejects] == [("line 4", "4 cells where the header has 3")]
    assert [(r.id, str(r.position)) for r in rows] == [("a", "line 2"), ("c", "line 5")]


@each_compression
def test_a_compressed_csv_with_a_byte_order_mark_keeps_its_first_columns_name(tmp_path, compression):
    path = compressed(tmp_path / "data.csv", compression, "id,query,caption\nq1,Where is it?,A van.\n".encode("utf-8-sig"))
    [row] = read_benchmark(path, id_field="id")
    assert (row.id, row.query, row.image_description) == ("q1", "Where is it?", "A van.")


@each_compression
def test_a_compressed_file_is_read_in_the_encoding_asked_for(tmp_path, compression):
    path = compressed(tmp_path / "notes.txt", compression, "café".encode("latin-1"))
    assert Decompressed(path).read_text(encoding="latin-1") == "café"


@each_compression
@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_compressed_file_cut_short_is_one_line_and_exit_2(tmp_path, compression, suffix):
    whole = COMPRESSORS[compression](many_rows())
    path = tmp_path / f"data{suffix}{compression}"
    path.write_bytes(whole[:len(whole) // 2])
    result = audit(path)
    assert result.exit_code == 2, result.output
    assert result.output == f"error: {path}: cannot read ({CUT_SHORT[compression]})\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@each_compression
def test_a_file_not_in_its_suffixs_format_is_one_line_and_exit_2(tmp_path, compression):
    path = tmp_path / f"data.jsonl{compression}"
    path.write_bytes(ROW * 3)
    result = audit(path)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {path}: cannot read ({NOT_THE_FORMAT[compression]}")
    assert result.output.count("\n") == 1


@each_compression
def test_compressed_parquet_is_refused_by_its_suffixes(tmp_path, compression):
    path = compressed(tmp_path / "data.parquet", compression, b"x")
    with pytest.raises(ValueError, match=f"unknown format .parquet{compression};"):
        read_benchmark(path)
