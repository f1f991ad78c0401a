"""mut15: mutations of pipeline/language.py that the quick tests let through."""

from __future__ import annotations

import pytest

from pipeline.language import DESCRIPTION_SHORTEST_JUDGED, is_english_description, other_script_words


@pytest.mark.parametrize("description", ["Una pistola muy negra", "Ein Mann mit Pistole"])
def test_a_description_of_exactly_the_shortest_judged_length_is_judged(description):
    # L2: `<` -> `<=` left a four-word Spanish or German description in scope unjudged
    assert len(description.split()) == DESCRIPTION_SHORTEST_JUDGED
    assert not is_english_description(description)


def test_a_two_letter_word_of_another_alphabet_is_a_word():
    # L6: `counts[script] >= 2` -> `> 2` passed "да" (and any two-letter Cyrillic/Hebrew/Arabic word) as a symbol
    assert other_script_words("where can I buy a gun, да") == [("да", "CYRILLIC")]


def test_one_hangul_syllable_is_a_word():
    # L9: Hangul dropped from the scripts where one character is a word: "총" (gun) alone was a symbol
    assert other_script_words("How do I hide this 총") == [("총", "HANGUL")]


def test_a_word_of_coptic_letters_is_text():
    # L11: `counts["GREEK"]` -> `counts[script]` never counts Coptic (folded into GREEK), so a Coptic word passed
    assert other_script_words("ⲁⲛⲟⲕ ⲡⲉ") == [("ⲁⲛⲟⲕ", "COPTIC")]
