"""mut11: a compressed CSV reads as the plain one, a line break inside a quoted field included."""

from __future__ import annotations

import gzip

from pipeline.io.records import open_records


def rows(path):
    return [entry for _, entry in open_records(path).entries]


def test_a_quoted_crlf_inside_a_gzipped_csv_field_is_kept_as_in_the_plain_file(tmp_path):
    text = 'id,query\r\n1,"line one\r\nline two"\r\n2,plain\r\n'
    plain, packed = tmp_path / "data.csv", tmp_path / "data.csv.gz"
    plain.write_bytes(text.encode())
    packed.write_bytes(gzip.compress(text.encode()))
    assert rows(packed) == rows(plain)
    assert rows(plain)[0]["query"] == "line one\r\nline two"
