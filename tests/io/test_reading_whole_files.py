"""Reading benchmark files as a whole: a column first seen late is found, and a row whose text no
model can read (half a surrogate pair, no words, bytes that are not UTF-8) is one reject."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.io.external import BenchmarkReader, read_rows


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def merged_file(path: Path) -> Path:
    """A text-only benchmark with no description key, then a multimodal one, as in a merged file."""
    text_only = [{"id": f"t{n}", "query": f"What is a good lemon cake recipe, number {n}?"} for n in range(1100)]
    multimodal = [{"id": f"m{n}", "query": "How do I hide this handgun?", "image_description": "A handgun.",
                   "source": "mm"} for n in range(3)]
    return jsonl(path, text_only + multimodal)


def rows_and_rejects(path: Path, **fields):
    rows, rejects = [], []
    for chunk, bad in BenchmarkReader(path, **fields, require_description=False).chunks(500):
        rows.extend(chunk)
        rejects.extend(bad)
    return rows, rejects


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_a_column_first_seen_after_a_thousand_records_is_found(tmp_path, suffix):
    path = merged_file(tmp_path / "merged.jsonl")
    if suffix == ".json":
        path = tmp_path / "merged.json"
        path.write_text(json.dumps([json.loads(line) for line in (tmp_path / "merged.jsonl").read_text().splitlines()]))
    reader = BenchmarkReader(path, require_description=False)
    assert reader.fields["image_description"] == "image_description" and "source" in reader.columns
    rows, _ = rows_and_rejects(path)
    assert sum(not row.text_only for row in rows) == 3 and len(rows) == 1103


def test_a_field_named_on_the_command_line_may_first_appear_late(tmp_path):
    path = merged_file(tmp_path / "merged.jsonl")
    reader = BenchmarkReader(path, description_field="image_description", require_description=False)
    assert reader.fields["image_description"] == "image_description"


@pytest.mark.parametrize("field", ["query", "image_description", "id"])
def test_half_a_surrogate_pair_is_a_reject_naming_where(tmp_path, field):
    record = {"id": "item-7", "query": "How do I hide this item?", "image_description": "A box."}
    record[field] = record[field][:3] + "\ud83d" + record[field][3:]
    path = tmp_path / "d.jsonl"
    whole_pair = {"id": "ok", "query": "Is this \ud83d\ude00 safe?", "image_description": "A box."}
    path.write_text(json.dumps(whole_pair) + "\n" + json.dumps(record) + "\n")  # both escaped as \ud83d...
    rows, rejects = rows_and_rejects(path)
    assert [(row.id, row.query) for row in rows] == [("ok", "Is this \U0001F600 safe?")]
    assert [(str(r.position), r.reason) for r in rejects] == [
        ("line 2", f"`{field}` holds an unpaired surrogate at character 4")]


@pytest.mark.parametrize("query", ["?", "...", " !? "])
def test_a_query_with_no_letters_or_digits_is_a_reject(tmp_path, query):
    path = jsonl(tmp_path / "d.jsonl", [{"query": "Where is it?"}, {"query": query}, {"query": "2 + 2?"}])
    rows, rejects = rows_and_rejects(path)
    assert [row.query for row in rows] == ["Where is it?", "2 + 2?"]
    assert [(str(r.position), r.reason) for r in rejects] == [("line 2", "`query` has no words")]


def test_a_csv_row_with_a_byte_that_is_not_utf8_is_a_reject_and_later_rows_are_read(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"id,query\r\na,Where is it?\r\n" + "b,O\u00f9 est le caf\u00e9?\r\n".encode("cp1252")
                     + b"c,What is this?\r\n")
    rows, rejects = rows_and_rejects(path)
    assert [row.id for row in rows] == ["a", "c"]
    assert [(str(r.position), r.id, r.reason) for r in rejects] == [("line 3", "b", "not UTF-8 text")]


def test_a_folder_is_not_called_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="is a folder; name a benchmark file"):
        read_rows(tmp_path)


def test_a_csv_reader_knows_roughly_how_many_rows_to_expect(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,query\n" + "".join(f"{n},Question {n}?\n" for n in range(7)))
    assert BenchmarkReader(path, require_description=False).total == 7
