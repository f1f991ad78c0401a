"""A spreadsheet's captions header (`File,Caption`, ` caption`) was matched exactly, and Excel's
`sep=,` first line made the header `sep=`: the pool was refused with a message blaming line 2, a data
row. Column names are now read without case or surrounding spaces, and a header without `file` is
named as read; Excel's `sep=` line names the delimiter (pipeline/io/csv_records.py)."""

from __future__ import annotations

import pytest
from PIL import Image

from pipeline.pool import load_pool
from pipeline.pool.pool import read_captions


def pool_with(tmp_path, captions: str):
    image = Image.new("RGB", (32, 32), (200, 30, 30))
    image.paste((30, 30, 200), (8, 8, 24, 24))
    image.save(tmp_path / "ok.png")
    (tmp_path / "captions.csv").write_text(captions, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("header", ["File,Caption", "file, caption", " FILE ,Caption ", "file,caption"])
def test_header_names_are_read_without_case_or_surrounding_spaces(tmp_path, header):
    pool = load_pool(pool_with(tmp_path, f"{header},Category\nok.png,A knife.,Violent\n"))
    assert [(image.file, image.caption, image.category) for image in pool.images] == [
        ("ok.png", "A knife.", "Violent")]


@pytest.mark.parametrize("separator", [",", ";"])
def test_excels_sep_line_names_the_delimiter_and_the_header_follows_it(tmp_path, separator):
    text = f"sep={separator}\r\nFile{separator}Caption\r\nok.png{separator}A knife, open.\r\n".replace(
        "A knife, open.", '"A knife, open."')
    pool = load_pool(pool_with(tmp_path, text))
    assert [(image.file, image.caption) for image in pool.images] == [("ok.png", "A knife, open.")]


def test_a_header_without_file_names_the_header(tmp_path):
    with pytest.raises(ValueError, match=r"no `file` column: the header reads 'image', 'caption'"):
        read_captions(pool_with(tmp_path, "image,caption\nok.png,A knife.\n") / "captions.csv")


def test_two_columns_that_differ_only_in_case_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"columns 'Caption', 'caption' are one column"):
        read_captions(pool_with(tmp_path, "file,caption,Caption\nok.png,A knife.,A blade.\n") / "captions.csv")
