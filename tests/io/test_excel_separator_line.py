"""Excel may save "sep=;" above a CSV's header, and reads it as the delimiter. leakless took that line for
the header ("no query field found (columns: sep=, )"): it now names the delimiter, the header follows it,
and rows keep the line numbers an editor shows."""

from __future__ import annotations

import pytest

from pipeline.io.entries import Unreadable
from pipeline.io.records import open_records


@pytest.mark.parametrize("separator", [";", ",", "\t"])
def test_the_sep_line_names_the_delimiter_and_rows_keep_their_lines(tmp_path, separator):
    path = tmp_path / "bench.csv"
    query = "How then?" if separator == "," else "How, then?"  # a comma in a cell: the sep line decides
    lines = [f"sep={separator}", f"query{separator}image_description", f"{query}{separator}A knife.",
             f'"open{separator}', f"Where?{separator}A pistol."]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    stream = open_records(path)
    assert stream.columns == ["query", "image_description"] and stream.total == 3
    entries = [(position.number, entry) for position, entry in stream.entries]
    assert entries[0] == (3, {"query": query, "image_description": "A knife."})
    assert entries[1][0] == 4 and isinstance(entries[1][1], Unreadable)
    assert entries[-1] == (5, {"query": "Where?", "image_description": "A pistol."})


def test_a_header_that_only_starts_with_sep_is_a_header(tmp_path):
    path = tmp_path / "bench.csv"
    path.write_text("sep=x,query\n1,Why?\n", encoding="utf-8")
    assert open_records(path).columns == ["sep=x", "query"]
