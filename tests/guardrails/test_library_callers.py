"""The hard block as a researcher calls it from her own script (an API audit): one string was read
letter by letter and passed, a generator was used up before the last rule read it, and a category
spelt "erotic" lost the rule that stops any minor in the Erotic category."""

from __future__ import annotations

import pytest

from pipeline.guardrails import check_text, check_texts

BLOCKED = "Email Emily Carter at emily.carter@example.com about the 15-year-old nude model"


def test_one_string_is_refused_not_read_letter_by_letter():
    assert check_texts([BLOCKED]) is not None
    with pytest.raises(TypeError, match="not one string: check_text"):
        check_texts(BLOCKED)


@pytest.mark.parametrize("item", [None, 5, {"query": "x"}])
def test_an_item_that_is_no_text_is_one_type_error(item):
    with pytest.raises(TypeError, match="check_texts takes texts"):
        check_texts(["a query", item])


def test_a_generator_is_read_by_every_rule():
    assert check_texts(text for text in ["a sign reading 危险"]).rule == "unreadable_language"
    assert check_texts(text for text in [BLOCKED]).rule == "sexual_minors"


@pytest.mark.parametrize("category", ["Erotic", "erotic", "EROTIC", " Erotic "])
def test_the_erotic_category_rule_reads_any_case(category):
    assert check_text("A 15-year-old girl posing for a photo", category=category).rule == "sexual_minors"


def test_other_categories_keep_a_minor_without_a_sexual_word():
    assert check_text("A 15-year-old girl posing for a photo", category="Violent") is None
