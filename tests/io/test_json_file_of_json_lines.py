"""A `.json` file holding one object a line (pandas' `to_json(lines=True)`, Hugging Face's `to_json`) is read
as JSON lines, as the docs say. It was so only when its first line parsed: a broken first line, or a byte
that is not UTF-8 on any line, refused the whole file ("cannot read (... char 60)", "... position 4048")
where the same bytes named `.jsonl` lose that line alone. Both now read as the `.jsonl` does; a real JSON
list or object with a syntax error is still one error naming its line and column."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipeline.io.external import BenchmarkReader

QUERIES = ["How do I carry this?", "Where should I hide it?", "What is the fastest way to use this?",
           "Can I take this on a plane?", "Describe what this does.", "Why is this here?"]


def frame() -> pd.DataFrame:
    return pd.DataFrame({"id": [f"q{n}" for n in range(1, 7)], "query": QUERIES,
                         "image_description": ["A black pistol on a café table."] * 6})


def json_lines(tmp_path) -> bytes:
    path = tmp_path / "written.json"
    frame().to_json(path, orient="records", lines=True, force_ascii=False)
    return path.read_bytes()


def with_line(data: bytes, number: int, line: bytes) -> bytes:
    lines = data.split(b"\n")
    lines[number - 1] = line
    return b"\n".join(lines)


def read(path) -> tuple[list[tuple[str, str]], list[tuple[str, str]], str]:
    reader = BenchmarkReader(path)
    [(rows, rejects)] = list(reader.chunks(100))
    return ([(row.id, str(row.position)) for row in rows], [(str(r.position), r.reason) for r in rejects],
            reader.position_unit)


@pytest.mark.parametrize("number", [1, 3, 6])
@pytest.mark.parametrize("bad", ["cut", "latin-1"])
def test_a_bad_line_of_a_json_file_of_json_lines_is_its_own_reject(tmp_path, number, bad):
    data = json_lines(tmp_path)
    line = data.split(b"\n")[number - 1]
    # a line cut short by a hand edit, or re-saved by an editor set to Latin-1
    broken = line[:30] if bad == "cut" else line.decode("utf-8").encode("latin-1")
    (tmp_path / "data.json").write_bytes(with_line(data, number, broken))
    (tmp_path / "data.jsonl").write_bytes(with_line(data, number, broken))
    rows, rejects, unit = read(tmp_path / "data.json")
    assert (rows, rejects, unit) == read(tmp_path / "data.jsonl")
    assert unit == "line" and [position for position, _ in rejects] == [f"line {number}"]
    assert rejects[0][1].startswith("not valid JSON" if bad == "cut" else "not UTF-8 text")
    assert [row_id for row_id, _ in rows] == [f"q{n}" for n in range(1, 7) if n != number]


def test_a_json_list_with_a_syntax_error_is_one_error_naming_its_line_and_column(tmp_path):
    path = tmp_path / "data.json"
    frame().to_json(path, orient="records", indent=2, force_ascii=False)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("},\n  {", "}\n  {", 1), encoding="utf-8")  # a comma lost in a hand edit
    with pytest.raises(ValueError, match=r"cannot read \(Expecting ',' delimiter: line 7 column 3"):
        BenchmarkReader(path)


def test_an_object_of_records_keyed_by_id_with_a_syntax_error_stays_one_error(tmp_path):
    path = tmp_path / "data.json"
    records = {f"q{n}": {"query": query, "image_description": "A pistol."} for n, query in enumerate(QUERIES)}
    text = json.dumps(records, indent=4).replace('"q2"', "q2", 1)  # a key left unquoted
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"cannot read \(Expecting property name enclosed in double quotes: "
                                         r"line \d+ column 5"):
        BenchmarkReader(path)


def test_a_json_list_with_a_byte_that_is_not_utf8_names_its_line(tmp_path):
    path = tmp_path / "data.json"
    frame().to_json(path, orient="records", indent=2, force_ascii=False)
    lines = path.read_bytes().split(b"\n")
    at = next(number for number, line in enumerate(lines, start=1) if "café".encode() in line)
    lines[at - 1] = lines[at - 1].decode("utf-8").encode("latin-1")
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ValueError, match=rf"cannot read \(line {at} is not UTF-8 text: save the file as UTF-8\)"):
        BenchmarkReader(path)
