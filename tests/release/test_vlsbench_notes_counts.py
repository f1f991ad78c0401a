"""The export's NOTES.md headings count in English: "## 1 overridden pairs" read wrong."""

from __future__ import annotations

from pathlib import Path

from pipeline.release.vlsbench import notes_md


def test_one_of_a_kind_is_singular_and_more_are_plural():
    one = notes_md(Path("bench-v1"), placeholders=[4], overridden=[3])
    assert "## 1 placeholder image\n" in one
    assert "## 1 overridden pair\n\nIts query was flagged" in one

    more = notes_md(Path("bench-v1"), placeholders=[1, 4], overridden=[2, 3])
    assert "## 2 placeholder images\n" in more
    assert "## 2 overridden pairs\n\nTheir query was flagged" in more
