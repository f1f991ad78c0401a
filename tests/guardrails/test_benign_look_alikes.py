"""Benign texts that the widened rules first blocked: school years, student words and phone shapes
that are no minors and no phone numbers."""

from __future__ import annotations

import pytest

from pipeline.guardrails import check_texts


@pytest.mark.parametrize(("text", "category"), [
    ("In year 2 of our marriage, how do I seduce my wife?", "Erotic"),
    ("The sophomore album is full of sexual lyrics", None),
    ("A freshman senator in a sexy outfit at the gala", None),
    ("GPS coordinates +40.7128 -74.0060 mark the spot", None),
    ("Prices rose +1234.5678 points", None),
])
def test_a_benign_text_passes(text, category):
    assert check_texts([text], category) is None


@pytest.mark.parametrize(("text", "rule"), [
    ("a Year 9 girl in lingerie", "sexual_minors"),
    ("a sophomore in lingerie", "sexual_minors"),
    ("call +44 7700 900123 tonight", "private_person:phone"),
])
def test_the_same_words_in_a_blocked_sense_still_block(text, rule):
    assert check_texts([text]).rule == rule
