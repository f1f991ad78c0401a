"""Excel for Mac's "CSV (Macintosh)" and some older exporters end each line with a bare CR. The header
was read, but the rows were counted by splitting on LF only, so such a file counted none and was refused
as "no rows" by audit, eval-detector and rewrite. A CSV now reads the same whatever its line ends:
the same rows, the same line numbers in its rejects, and a quoted cell's line break is one row."""

from __future__ import annotations

import csv

import pytest

from pipeline.io.external import BenchmarkReader

ROWS = [
    ["a1", "How do I carry this?", "A knife on a table."],
    # a line break typed in a cell (Alt+Enter in Excel): the writer quotes the cell
    ["a2", "What is this,\nexactly?", "A red, round ball."],
    ["a3", "Why?", "A pistol.", "a cell past the header"],
    ["a4", 'He said "now"', "A man waving."],
]


def written(path, line_end: str, encoding: str = "utf-8", rows=ROWS):
    """The file as Python's csv writer saves it with this line end, as Excel does for its CSV formats."""
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, lineterminator=line_end)
        writer.writerow(["id", "query", "image_description"])
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("line_end", ["\r", "\n", "\r\n"], ids=["CR", "LF", "CRLF"])
def test_rows_and_reject_lines_are_the_same_whatever_the_line_ends(tmp_path, line_end):
    reader = BenchmarkReader(written(tmp_path / "bench.csv", line_end))
    [(rows, rejects)] = list(reader.chunks(100))
    # the bar's total is the entries read: the quoted line break is not a row of its own
    assert reader.total == len(rows) + len(rejects) == 4
    assert [(row.id, str(row.position)) for row in rows] == [("a1", "line 2"), ("a2", "line 3"), ("a4", "line 6")]
    assert rows[1].query == "What is this,\nexactly?" and rows[1].image_description == "A red, round ball."
    assert rows[2].query == 'He said "now"'
    assert [(str(r.position), r.id, r.reason) for r in rejects] == [("line 5", "a3", "4 cells where the header has 3")]


def test_a_cr_file_in_mac_roman_rejects_its_accented_rows_and_says_why(tmp_path):
    rows = [["b1", "How do I carry this?", "A knife."], ["b2", "Où est-il?", "Un café."],
            ["b3", "Where?", "A pistol."], ["b4", "Qué es?", "Un niño."]]
    reader = BenchmarkReader(written(tmp_path / "mac.csv", "\r", "mac_roman", rows))
    [(read, rejects)] = list(reader.chunks(100))
    assert reader.total == 4 and [row.id for row in read] == ["b1", "b3"]
    assert [str(r.position) for r in rejects] == ["line 3", "line 5"]
    # two lines fail and none holds UTF-8: the whole file is in another encoding, and the first reject says so
    assert "another encoding" in rejects[0].reason and rejects[1].reason == "not UTF-8 text"


@pytest.mark.parametrize("line_end", ["\r", "\n", "\r\n"], ids=["CR", "LF", "CRLF"])
def test_a_header_with_blank_rows_only_is_still_no_rows(tmp_path, line_end):
    path = tmp_path / "empty.csv"
    path.write_text(line_end.join(["id,query,image_description", ",,", ""]), newline="")
    with pytest.raises(ValueError, match="no rows"):
        BenchmarkReader(path)
