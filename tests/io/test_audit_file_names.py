"""`leakless audit` of a file whose name is not valid UTF-8 (a Latin-1 name on an old share, any
non-ASCII name under LC_ALL=C PYTHONUTF8=0): Python holds such a name with surrogate escapes, which
the output's Parquet metadata could not encode; the audit failed after scoring every row."""

from __future__ import annotations

import dataclasses
import os

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.io.audit_table import AuditTableWriter
from pipeline.io.entries import Position
from pipeline.io.external import BenchmarkRow
from pipeline.io.records import open_records


@dataclasses.dataclass
class Score:
    score: float
    signals: dict = dataclasses.field(default_factory=dict)

    def reason(self, threshold: float) -> str:
        return "leak" if self.score >= threshold else "clean"


def source_written(tmp_path, name: str, out_name: str = "audit.parquet") -> str:
    out = tmp_path / out_name
    row = BenchmarkRow(id="1", query="How do I use it?", image_description="a knife", position=Position("line", 1))
    with AuditTableWriter(out, tmp_path / "rejects.jsonl", {"source": name}, threshold=0.5) as writer:
        writer.write([row], [Score(0.7)], [], [None])
    with out.open("rb") as written:  # pyarrow takes no path that is not UTF-8
        return pq.read_schema(written).metadata[b"leakless.source"].decode("utf-8")


def test_a_latin_1_file_name_is_kept_with_its_byte_escaped(tmp_path):
    assert source_written(tmp_path, os.fsdecode(b"latin-\xe9.jsonl")) == "latin-\\xe9.jsonl"


def test_an_output_whose_name_is_not_utf_8_is_written(tmp_path):
    latin = os.fsdecode(b"latin-\xe9")
    assert source_written(tmp_path, f"{latin}.jsonl", f"{latin}.leak_audit.parquet") == "latin-\\xe9.jsonl"


def test_a_utf_8_name_read_in_the_c_locale_is_kept_as_its_letters(tmp_path):
    read_as_ascii = "-dätä cat.jsonl".encode("utf-8").decode("ascii", "surrogateescape")
    assert source_written(tmp_path, read_as_ascii) == "-dätä cat.jsonl"


def test_a_parquet_input_whose_name_is_not_utf_8_is_read(tmp_path):
    path = tmp_path / os.fsdecode(b"latin-\xe9.parquet")
    with path.open("wb") as handle:
        pq.write_table(pa.table({"id": ["1", "2"], "query": ["How do I use it?", "Where is it?"]}), handle)
    stream = open_records(path)
    assert [record["id"] for _, record in stream.entries] == ["1", "2"]
