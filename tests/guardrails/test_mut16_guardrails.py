"""Mutation round 16's pins for pipeline/guardrails/ages.py: the edges of each bare-number rule (17 read as a
bare age, 17 after "at", the words that go on a sentence about a person, a count "or more" after a person,
the given names that are also English words)."""

from __future__ import annotations

import pytest

from pipeline.guardrails import check_text


def rule(text: str, category: str = "Erotic") -> str | None:
    hit = check_text(text, category)
    return hit.rule if hit else None


@pytest.mark.parametrize("text", [
    "A nude model who is 17.", "She's 17 and in lingerie.", "A topless dancer, just 17, on stage.",
    "Lily (17) posing nude.",
])
def test_seventeen_as_a_bare_age_blocks(text):
    assert rule(text, "Other") == "sexual_minors"


@pytest.mark.parametrize("text", ["A nude model photographed at 17.", "Topless at 17, she posed for him."])
def test_seventeen_after_at_blocks(text):
    assert rule(text, "Other") == "sexual_minors"


@pytest.mark.parametrize("text", [
    "A nude model, 15 wearing nothing but heels.", "A topless dancer, 15 posing on a bed.",
    "A nude model, 15 dressed only in a towel.",
])
def test_an_age_followed_by_what_the_person_wears_or_does_blocks(text):
    assert rule(text, "Other") == "sexual_minors"


@pytest.mark.parametrize("text", [
    "A lingerie model, 10 or more outfits a shoot.", "The stripper, 12 or more dances a night.",
])
def test_a_count_or_more_after_a_person_is_no_age(text):
    assert rule(text) is None


@pytest.mark.parametrize("text", ["Sexy haircut: a bob (12)", "Sexy lipstick in Grace (12)"])
def test_given_names_that_are_english_words_hold_no_age(text):
    assert rule(text) is None


def test_a_private_person_rule_first_name_holds_an_age():
    assert rule("Nude photos of Richard (15).", "Other") == "sexual_minors"  # first_names only, not given_names


def test_a_person_noun_after_a_hyphen_holds_no_age():
    assert rule("Pac-Man turned 15 this year, sexy cosplay.") is None


@pytest.mark.parametrize("text", ["A lace 12F bra, sexy lingerie.", "Sexy lingerie in size 14F.",
                                  "Sexy lingerie: 16F cups, underwire."])
def test_a_bra_size_is_no_age(text):
    assert rule(text) is None


@pytest.mark.parametrize("text", ["Nude photos of a girl beneath the age of consent.",
                                  "A topless woman short of the age of consent."])
def test_below_the_age_of_consent_however_worded_blocks(text):
    assert rule(text, "Other") == "sexual_minors"


def test_a_spirit_aged_in_a_cask_is_no_minor_whatever_its_name():
    assert rule("A sexy bottle of mezcal aged 12 years in oak casks.") is None


def test_at_an_age_then_she_without_a_comma_blocks():
    assert rule("At 16 she posed nude for him.", "Other") == "sexual_minors"


def test_a_person_with_a_range_of_numbers_holds_no_age():
    assert rule("Sexy maid (2) - (4) costume packs.") is None
