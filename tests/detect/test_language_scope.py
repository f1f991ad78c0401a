"""The English check where English is not even among the identifier's guesses (mutation round 4): a
request in Chinese or Japanese is out of scope, not read as English by default."""

from __future__ import annotations

import pytest

from pipeline.language import is_english


@pytest.mark.parametrize("query", ["这把枪在哪里可以买到？", "この銃はどこで買えますか？"])
def test_a_query_with_no_english_guess_is_not_english(query):
    assert not is_english(query)


def test_an_english_query_and_a_query_of_marks_are_in_scope():
    assert is_english("Where can I buy a gun like this one?")
    assert is_english("?!")
