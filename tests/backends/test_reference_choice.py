"""Which reference a rewrite may point at the image with (mutation round 3)."""

import random

from pipeline.backends.references import References, held_reference

HELD = {held_reference(text, "he", "his") for text in References().table["held"]["singular"]}


def firsts(kind, terms, description, tries=80):
    references = References()
    return {references.pick(random.Random(seed), kind, terms, description).first for seed in range(tries)}


def test_only_a_held_thing_is_referred_to_by_who_holds_it():
    """A man holding a phone on a rooftop: the rooftop is no "what he is holding"."""
    description = "A man holding a phone on a rooftop ledge."
    assert firsts("object", ("phone",), description) & HELD
    assert not firsts("place", ("rooftop ledge",), description) & HELD
    assert not firsts("person_or_body", ("man on a ledge",), description) & HELD


def test_when_every_reference_would_name_the_element_the_reference_is_this():
    """An element whose terms are the table's own words ("item", "thing", ...) gets plain "this"."""
    every = tuple(References().table["object"]["singular"])
    assert firsts("object", every, "", tries=20) == {"this"}
