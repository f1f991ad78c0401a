"""One-line messages: an error's first line, and the first few names of a list."""

from __future__ import annotations

import httpx

from pipeline.messages import first_few, first_line


def test_an_error_without_text_is_named_by_its_type():
    # httpx's async client raises ReadTimeout('') on a stalled server: an empty message once made an
    # IndexError of the line meant to report it
    assert first_line(httpx.ReadTimeout("")) == "ReadTimeout"
    assert first_line(ValueError("  \n ")) == "ValueError"


def test_an_error_shows_its_first_line_of_text():
    assert first_line(ValueError("\nbad row 3\n  at line 7")) == "bad row 3"


def test_first_few_counts_the_rest():
    assert first_few(["a", "b"]) == "a, b"
    assert first_few(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"
    assert first_few((name for name in "abcdefghij"), shown=8) == "a, b, c, d, e, f, g, h and 2 more"
