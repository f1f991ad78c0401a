"""Benchmark files as researchers' tools save them (pandas, R, Excel, pyarrow): the same table reads
the same whatever the tool and format, and what cannot be read says what to do."""

from __future__ import annotations

import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.io.external import BenchmarkReader, read_benchmark, read_rows
from pipeline.taxonomy import element_lines


@pytest.mark.parametrize("true, false", [("True", "False"), ("TRUE", "FALSE"), ("true", "false"), (" True ", "0")])
def test_a_csv_label_written_as_true_or_false_reads_as_1_or_0(tmp_path, true, false):
    """pandas writes a bool column to CSV as True/False, R's write.csv as TRUE/FALSE; every row was rejected."""
    path = tmp_path / "labelled.csv"
    path.write_text(f"id,query,label\n1,How do I hide this?,{true}\n2,Where do I buy it?,{false}\n")
    rows = read_benchmark(path, require_label=True, require_description=False)
    assert [row.label for row in rows] == [1, 0]


def test_a_pandas_bool_label_reads_the_same_from_csv_jsonl_and_parquet(tmp_path):
    frame = pd.DataFrame({"id": [1, 2, 3], "query": ["How do I hide this?", "Where is it?", "What is that?"],
                          "label": [True, False, True]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    labels = {suffix: [row.label for row in read_benchmark(tmp_path / f"t{suffix}", require_label=True,
                                                           require_description=False)]
              for suffix in (".csv", ".jsonl", ".parquet")}
    assert labels == {".csv": [1, 0, 1], ".jsonl": [1, 0, 1], ".parquet": [1, 0, 1]}


@pytest.mark.parametrize("word", ["yes", "no", "T", "maybe"])
def test_other_words_are_still_no_label(tmp_path, word):
    path = tmp_path / "labelled.csv"
    path.write_text(f"id,query,label\n1,How do I hide this?,{word}\n2,Where do I buy it?,1\n")
    rows, rejects = read_rows(path, require_label=True, require_description=False)
    assert [row.id for row in rows] == ["2"] and rejects[0].reason == f"`label` is not 0 or 1: '{word}'"


def test_a_nan_from_json_dumps_is_a_missing_value(tmp_path):
    """`json.dump(df.to_dict("records"))` writes pandas' missing values as NaN: a row lost its usable
    query over a NaN description or id, and a NaN query was "a number (nan)"."""
    path = tmp_path / "nan.jsonl"
    path.write_text('{"id": 99, "query": "How do I hide this?", "description": NaN, "category": NaN}\n'
                    '{"id": NaN, "query": "Where do I buy it?", "description": "A knife.", "element_terms": NaN}\n'
                    '{"id": 150, "query": NaN, "description": "A gun."}\n')
    rows, rejects = read_rows(path, require_description=False)
    assert [(row.id, row.image_description, row.category) for row in rows] == [
        ("99", "", None), ("line 2", "A knife.", None)]
    assert rows[1].element_terms == ()  # not the term "nan"
    assert [reject.describe() for reject in rejects] == ["line 3 (id 150): `query` is NaN (missing)"]


def test_a_parquet_file_naming_a_column_twice_is_one_line_as_a_csv_header_is(tmp_path):
    """pyarrow writes such a file; reading it took the last of the two columns, silently."""
    path = tmp_path / "twice.parquet"
    pq.write_table(pa.Table.from_arrays(
        [pa.array([1, 2]), pa.array(["How do I hide the knife?", "Where do I buy this?"]),
         pa.array(["How do I hide this?", "Where do I buy it?"])], names=["id", "query", "query"]), path)
    with pytest.raises(ValueError) as raised:
        read_rows(path, require_description=False)
    assert str(raised.value) == f"{path}: names column 'query' more than once"


SCENES = ["Caf\u00e9 du monde?", "Where is the \u201cshop\u201d?", "What is this?", "Na\u00efve question?"]


def test_a_windows_1252_csv_says_once_to_save_it_as_csv_utf_8(tmp_path):
    """Excel's plain "CSV" is Windows-1252: each row with an accent or a smart quote was "not UTF-8 text",
    and nothing said the problem was the whole file, nor what to do."""
    path = tmp_path / "excel.csv"
    path.write_bytes(("id,query\r\n" + "".join(f"{n},{query}\r\n" for n, query in enumerate(SCENES))).encode("cp1252"))
    rows, rejects = read_rows(path, require_description=False)
    assert [row.query for row in rows] == ["What is this?"]
    assert [reject.reason for reject in rejects] == [
        'not UTF-8 text (the file seems to be in another encoding, such as Windows-1252 (Excel\'s plain "CSV"): '
        'save it as "CSV UTF-8")', "not UTF-8 text", "not UTF-8 text"]


def test_a_windows_1252_jsonl_says_once_to_save_it_as_utf_8(tmp_path):
    path = tmp_path / "latin.jsonl"
    path.write_bytes("".join(f'{{"query": "{query}"}}\n' for query in SCENES).encode("cp1252"))
    rejects = read_rows(path, require_description=False)[1]
    assert [reject.reason for reject in rejects] == [
        "not UTF-8 text (the file seems to be in another encoding, such as Windows-1252: save it as UTF-8)",
        "not UTF-8 text", "not UTF-8 text"]


def test_one_stray_byte_in_a_utf_8_file_is_no_file_encoding(tmp_path):
    path = tmp_path / "mostly.jsonl"
    path.write_bytes("".join(f'{{"query": "{query}"}}\n' for query in SCENES[1:]).encode()
                     + '{"query": "Caf\u00e9?"}\n'.encode("cp1252") + '{"query": "Na\u00efve?"}\n'.encode("cp1252"))
    assert [reject.reason for reject in read_rows(path, require_description=False)[1]] == ["not UTF-8 text"] * 2


def test_a_csv_header_in_windows_1252_says_what_to_do(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("prompt,l\u00e9gende\nQuestion?,A scene.\n".encode("cp1252"))
    with pytest.raises(ValueError) as raised:
        read_rows(path, require_description=False)
    assert str(raised.value).endswith(
        'line 1, the header, is not UTF-8 text: the file seems to be in another encoding, '
        'such as Windows-1252 (Excel\'s plain "CSV"): save it as "CSV UTF-8")')


@pytest.mark.parametrize("name", ["unicode.csv", "unicode.tsv", "unicode.jsonl", "unicode.json"])
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf_16_file_is_named_so_in_one_line(tmp_path, name, encoding):
    """Excel's "Unicode Text" is UTF-16 with a byte-order mark: "the header is not UTF-8", or a reject a line."""
    path = tmp_path / name
    text = "query\tid\nWhere is it?\t1\n" if name.endswith("sv") else '{"query": "Where is it?"}\n'
    path.write_bytes(("\ufeff" + text).encode(encoding))
    with pytest.raises(ValueError) as raised:
        read_rows(path, require_description=False)
    assert str(raised.value) == (f'{path}: cannot read (it is UTF-16 text, not UTF-8: save it as UTF-8, in Excel '
                                 'as "CSV UTF-8" rather than "Unicode Text")')


def test_pandas_column_oriented_json_says_how_to_write_records(tmp_path):
    """`df.to_json("x.json")` writes each column as an object keyed by row index: it was read as 3 records
    keyed by column name, and the error listed 2,000 "columns" (11,000 characters) and pointed to --query-field."""
    path = tmp_path / "frame.json"
    pd.DataFrame({"id": range(2000), "query": ["How do I hide this?"] * 2000,
                  "description": ["A knife."] * 2000}).to_json(path)
    with pytest.raises(ValueError) as raised:
        read_rows(path, require_description=False)
    assert str(raised.value) == (f"{path}: looks like pandas' column-oriented JSON (to_json's default): write it with "
                                 'orient="records" (or orient="records", lines=True for JSON lines)')


def test_records_keyed_by_a_numeric_id_are_still_read(tmp_path):
    path = tmp_path / "keyed.json"
    path.write_text('{"0": {"Question": "How do I hide this?"}, "1": {"Question": "Where is it?"}}')
    assert [row.id for row in read_benchmark(path, require_description=False)] == ["0", "1"]


def test_a_long_column_list_in_an_error_is_cut_and_names_the_file(tmp_path):
    path = tmp_path / "wide.jsonl"
    path.write_text(pd.DataFrame({f"feature_{n}": [n] for n in range(500)}).to_json(orient="records", lines=True))
    with pytest.raises(ValueError) as raised:
        read_rows(path, require_description=False)
    assert str(raised.value) == (f"{path}: no query field found (columns: "
                                 + ", ".join(f"feature_{n}" for n in range(20))
                                 + ", ... and 480 more); name it with --query-field")


@pytest.mark.parametrize("name", ["header.csv", "empty.parquet", "blank.jsonl"])
def test_a_file_without_rows_is_refused_when_opened_before_any_model_loads(tmp_path, name):
    """A header-only CSV or a 0-row Parquet failed only after audit had loaded the detector (a minute)."""
    path = tmp_path / name
    frame = pd.DataFrame({"id": pd.Series([], dtype="int64"), "query": pd.Series([], dtype="str")})
    {"header.csv": lambda: path.write_text("id,query\r\n\r\n"), "empty.parquet": lambda: frame.to_parquet(path),
     "blank.jsonl": lambda: path.write_text("\n\n")}[name]()
    with pytest.raises(ValueError) as raised:
        BenchmarkReader(path, require_description=False)
    assert str(raised.value) == f"{path}: no rows"


def test_excel_s_empty_rows_are_skipped_as_blank_lines_are(tmp_path):
    """Excel writes a row of empty cells for each row whose cells were once touched: each was a reject."""
    path = tmp_path / "excel.csv"
    path.write_text("id;query;description\r\n1;Where is it?;A knife.\r\n;;\r\n2;What is that?;\r\n;;\r\n ; ;\r\n")
    reader = BenchmarkReader(path, require_description=False)
    rows, rejects = read_rows(path, require_description=False)
    assert ([row.id for row in rows], rejects, reader.total) == (["1", "2"], [], 2)


@pytest.mark.parametrize("body, rejected_id", [
    ('q1,"How do I hide this handgun?,A handgun.\nq2,What is a good picnic spot?,A park.\n', "q1"),
    ('q1,Fine?,A cat.\nq2,"x"y,C.\nq3,Any tips for a cake?,A cake.\n', "q2"),
    ('"q1"x,"What is this?",A dog.\nq2,Fine?,A cat.\n', None),  # the quote error is in the id: none is read
])
def test_a_row_that_is_not_csv_names_the_id_its_first_cells_give(tmp_path, body, rejected_id):
    """The docs promise a reject's id "where the file gives one"; a quote error gave none."""
    path = tmp_path / "data.csv"
    path.write_text("id,query,description\n" + body)
    rejects = read_rows(path)[1]
    assert [reject.id for reject in rejects] == [rejected_id]


def test_a_json_line_cut_in_a_string_says_where_once(tmp_path):
    """json's message "Unterminated string starting at" with " at column N" after it read "starting at at column"."""
    path = tmp_path / "cut.jsonl"
    path.write_text('{"query": "Where is it?"}\n{"query": "How do I\n')
    assert read_rows(path, require_description=False)[1][0].reason == (
        "not valid JSON (Unterminated string starting at column 11)")
    path.write_text('{"category": "Violent", "element": "cut\n')
    assert next(element_lines(path))[2] == "not a valid element (not JSON: Unterminated string starting at column 36)"


def test_a_pipe_is_named_as_one_not_as_a_missing_file(tmp_path):
    """A named pipe or `<(zcat x.jsonl.gz)` was "no such file": it exists, but is read more than once."""
    path = tmp_path / "piped.jsonl"
    os.mkfifo(path)
    with pytest.raises(ValueError) as raised:
        read_rows(path, require_description=False)
    assert str(raised.value) == (f"{path}: is not a regular file (a pipe or device), and the file is read more "
                                 "than once: save it to a file first")


def test_a_row_without_id_in_a_file_of_ids_cannot_take_another_row_s_id(tmp_path):
    """pandas writes an Int64 id column with a gap as 1,,3: the row without one took its line, 3, as its
    id, and the audit reported id '3' twice, for a row that has none."""
    path = tmp_path / "gap.csv"
    path.write_text("id,query\n1,Where is it?\n,What is that?\n3,Who is he?\n")
    assert [row.id for row in read_benchmark(path, require_description=False)] == ["1", "line 3", "3"]
    path = tmp_path / "gap.json"
    path.write_text('[{"id": 1, "query": "Where is it?"}, {"id": null, "query": "What is that?"}]')
    assert [row.id for row in read_benchmark(path, require_description=False)] == ["1", "row 2"]


def test_a_file_without_ids_keeps_its_positions_as_ids(tmp_path):
    path = tmp_path / "advbench.csv"
    path.write_text("goal,target\nWhere is it?,Sure\nWhat is that?,Sure\n")
    assert [row.id for row in read_benchmark(path, require_description=False)] == ["2", "3"]
