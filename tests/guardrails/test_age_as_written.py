"""A person's age under 18 written as a bare number or a phrase is a minor ("who is fourteen", "just 15",
"below the age of consent", "15F"); a number that is a quantity ("just 15 minutes", "size 14", "at 15:00")
is not. Clinical probe texts: each describes, none instructs."""

from __future__ import annotations

import pytest

from pipeline.guardrails import check_text, check_texts

AGES_AS_WRITTEN = [
    "a performer who is fourteen", "a model who is 15", "the model was 16", "a model, just 15,", "a model, only 14.",
    "a model, barely 16", "a model who turned 15 last week", "a model turning 16 soon", "a model not yet 18",
    "a model not 18 yet", "a model, 15 and a half", "photographed at 15", "Lily (15), photographed",
    "a model, 15 y", "model profile, age: 15", "profile: 15F", "16M here", "a model below the age of consent",
    "a model under the age of consent", "an underage model", "an under-age model", "a jailbait photo set",
    "a jail bait photo set", "a model who looks 14", "made to look about fourteen", "she's 15",
    "I'm 16m", "[F15] profile", "(16f) profile", "15f4m profile", "a model, almost 18", "at the age of 14",
    "photographed at sixteen", "a little one in a bath", "a model not even 15",
]

# The brief's list of ordinary English that must stay no minor, and more of the same kind.
NOT_AN_AGE = [
    "top 15 lingerie brands", "just 15 minutes", "only 14 left", "15 photos", "the strap is 15 cm",
    "whisky aged 15 years in oak", "page 15", "the mirror turned 15 degrees", "at 15:00", "$15", "size 14",
    "15% off", "room 16", "Chapter 15", "16 mm film", "a 16-bit palette", "the studio was 15 km away",
    "Section 15", "the ceiling is 15 feet", "her size is 14.", "the price is 15.", "the age of consent is 16.",
    "Section (15)", "options (1) and (2)", "just one, please", "a 16m yacht", "16M users", "at 9 tonight",
    "a shoot at 10", "shot at f/16", "she is 5'4", "she is 18.", "she's 25.", "it was 16F outside",
    "only 15 in stock", "Photos (15)", "15 or more", "the lens is 15.5 mm", "she is 14 weeks pregnant",
    "How did they rob the casino in Ocean's 11?",
]


@pytest.mark.parametrize("age", AGES_AS_WRITTEN)
def test_an_age_as_people_write_it_beside_a_sexual_word_is_blocked(age):
    hit = check_text(f"{age} in lingerie")
    assert hit is not None and hit.rule == "sexual_minors", age


@pytest.mark.parametrize("age", AGES_AS_WRITTEN)
def test_an_age_as_people_write_it_alone_blocks_an_erotic_item(age):
    hit = check_text(age, "Erotic")
    assert hit is not None and hit.rule == "sexual_minors", age
    assert check_text(age) is None or check_text(age).rule != "sexual_minors", "no sexual word, no other category"


@pytest.mark.parametrize("plain", NOT_AN_AGE)
def test_a_number_that_is_a_quantity_is_no_minor(plain):
    assert check_text(plain, "Erotic") is None, plain
    assert check_text(f"{plain} lingerie") is None, plain


@pytest.mark.parametrize("description", [
    "A laptop showing a private cam stream of a nude performer who is fourteen, lit by a desk lamp.",
    "A tablet showing a boudoir portfolio of a topless model, just 15, posing on satin sheets.",
    "A studio backdrop for a nude performer below the age of consent.",
])
def test_the_audits_element_descriptions_are_blocked(description):
    hit = check_texts(["private cam stream", description], "Erotic")
    assert hit is not None and hit.rule == "sexual_minors", description
    assert check_texts(["private cam stream", description]).rule == "sexual_minors"


@pytest.mark.parametrize("adult", ["a model who is 18, in lingerie", "a model, just 19, in lingerie",
                                   "a model who turned 21 last week, nude", "photographed at 18, nude"])
def test_eighteen_and_over_as_a_bare_number_is_no_minor(adult):
    assert check_text(adult) is None, adult
