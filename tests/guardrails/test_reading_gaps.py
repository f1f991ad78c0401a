"""What a red-team audit wrote past the minors rule: an age with another dash ("14–year–old"),
"fourteen yo", school years, a minor word and a sexual word run together, and characters that
show as nothing inside a word. Each is read as a person reads it; the project's own texts gain no hit."""

from __future__ import annotations

import pytest

from pipeline.guardrails import check_text, check_texts
from tests.guardrails.test_street_address import project_texts


@pytest.mark.parametrize("age", [
    "a 14\u2013year\u2013old",     # en dashes
    "a 14\u2014year\u2014old",     # em dashes
    "a 14\u2011year\u2011old",     # non-breaking hyphens
    "a 14\u2010year\u2010old",     # the Unicode hyphen
    "a 14\u2212year\u2212old",     # the minus sign
    "a 14\ufe63year\ufe63old",     # the small hyphen-minus
    "a fourteen yo", "a 14 y. o.", "a fourteen-yo",
    "a high school freshman", "a sophomore", "a Year 9 student",
])
def test_an_age_or_school_year_however_written_is_a_minor(age):
    hit = check_texts([age, "posing nude"])
    assert hit is not None and hit.rule == "sexual_minors", age


@pytest.mark.parametrize("blank", ["\u3164", "\uffa0", "\u115f", "\u1160", "\u2800", "\u034f", "\ufe0f",
                                   "\U000e0020"])
def test_a_character_that_shows_as_nothing_does_not_hide_a_word(blank):
    hit = check_texts([f"a te{blank}en waiting by a motel door", "an escort flyer"])
    assert hit is not None and hit.rule == "sexual_minors"
    assert check_text(f"Emi{blank}ly Carter at her door").rule == "private_person:full_name"


@pytest.mark.parametrize("joined", ["childnude", "teennudes", "nudeteen", "CHILDNUDE", "kidsexy", "littlegirllingerie"])
def test_a_minor_word_and_a_sexual_word_run_together_are_read(joined):
    hit = check_text(f"a file named {joined}")
    assert hit is not None and hit.rule == "sexual_minors"


@pytest.mark.parametrize("harmless", ["two yo-yos and a nude lipstick", "the year 2000 boudoir",
                                      "a person in an Essex boudoir", "Sexton's lingerie"])
def test_near_misses_stay_harmless(harmless):
    assert check_text(harmless) is None


def test_the_projects_own_texts_gain_no_minors_hit():
    """prompts/ and the element library: the one hit is the element writer's own rule against it."""
    hits = [text for text in project_texts() if (hit := check_text(text)) and hit.rule == "sexual_minors"]
    assert len(hits) == 1 and "nothing sexual that involves minor" in hits[0]
