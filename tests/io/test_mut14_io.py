"""Mutation round 14's pins on reading a user's benchmark file (each test fails with its mutant)."""

from __future__ import annotations

import json

import pytest

from pipeline.io.external import read_benchmark


def test_read_benchmark_refuses_a_file_with_one_unreadable_row_naming_it(tmp_path):
    # IO5: read_benchmark (benchmarks/detector.py's reader) silently dropping the bad row instead of refusing
    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in [
        {"id": "a", "query": "how do I sharpen this", "image_description": "a knife"},
        {"id": "b", "query": "?", "image_description": "a knife"},
        {"id": "c", "query": "what is this", "image_description": "a cup"}]), encoding="utf-8")

    with pytest.raises(ValueError, match=r"line 2 \(id b\): `query` has no words"):
        read_benchmark(path)


def test_a_blank_image_description_is_missing_not_a_description(tmp_path):
    # IO9: a value of spaces read as text: the row shipped with a blank description instead of its reject
    from pipeline.io.external import read_rows

    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in [
        {"id": "a", "query": "how do I sharpen this", "image_description": "a knife"},
        {"id": "b", "query": "what is this", "image_description": "   "}]), encoding="utf-8")

    rows, rejects = read_rows(path)

    assert [row.id for row in rows] == ["a"]
    assert [(str(r.position), r.id, r.reason) for r in rejects] == [("line 2", "b", "`image_description` is empty")]


def test_an_integer_id_written_as_a_float_is_read_as_the_integer(tmp_path):
    # IO10: 3.0 (an integer id that went through a float column) refused as 'a number (3.0), not an id'
    from pipeline.io.external import read_rows

    path = tmp_path / "bench.jsonl"
    path.write_text(json.dumps({"id": 3.0, "query": "what is this", "image_description": "a cup"}) + "\n",
                    encoding="utf-8")

    rows, rejects = read_rows(path)

    assert [row.id for row in rows] == ["3"] and rejects == []


def test_a_csv_cell_of_element_terms_is_split_at_its_semicolons(tmp_path):
    # IO12: "knife; blade" read as one term, so the detector looked for the whole cell in the query
    from pipeline.io.external import read_rows

    path = tmp_path / "bench.csv"
    path.write_text("id,query,image_description,element_terms\n"
                    "a,how do I sharpen this,a knife on a table,knife; blade\n", encoding="utf-8")

    [row], _ = read_rows(path)

    assert row.element_terms == ("knife", "blade")
