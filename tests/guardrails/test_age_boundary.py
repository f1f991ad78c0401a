"""The minors rule's boundaries: 17, however written, is a minor and 18 is not; the shortest minor word and
sexual word run together ("kidsex", six letters) is read like the longer ones."""

from __future__ import annotations

import pytest

from pipeline.guardrails import check_text


@pytest.mark.parametrize("age", ["a 17-year-old", "a seventeen year old", "aged 17", "a 17yo", "a 17 y/o",
                                 "a 17yrs", "someone 17 years of age"])
def test_seventeen_in_every_written_form_is_a_minor(age):
    hit = check_text(f"{age} in lingerie")
    assert hit is not None and hit.rule == "sexual_minors", age


@pytest.mark.parametrize("adult", ["an 18-year-old in lingerie", "aged 18, nude", "an 18yo in a bikini"])
def test_eighteen_is_not_a_minor(adult):
    assert check_text(adult) is None


@pytest.mark.parametrize("joined", ["kidsex", "sexkid"])
def test_the_shortest_minor_and_sexual_words_run_together_are_read(joined):
    hit = check_text(f"{joined} pictures")
    assert hit is not None and hit.rule == "sexual_minors" and hit.matched == joined
