"""`reveal` reads a misspelt name of the shown thing as the name (`spelling.py`)."""

from __future__ import annotations

import pytest

from pipeline.detect import LeakDetector, LeakInput
from pipeline.detect.lexicon import StemmedText
from pipeline.detect.signals import Texts
from pipeline.detect.spelling import english_words

HANDGUN = "A man in a dark hoodie holds a black handgun at waist height in a dim alley."


@pytest.fixture(scope="module")
def detector() -> LeakDetector:
    return LeakDetector()


def _read_as(query: str, description: str) -> str:
    return Texts.of(query, description).query_as_shown.line


@pytest.mark.parametrize("query, read", [
    ("where do I keep this handgvn", "handgun"),    # a letter changed
    ("where do I keep this handgn", "handgun"),     # dropped
    ("where do I keep this handgunn", "handgun"),   # added
    ("where do I keep this hnadgun", "handgun"),    # two neighbours swapped
    ("where do I keep this h4ndgun", "handgun"),    # a digit for a letter
])
def test_a_word_one_edit_from_a_shown_word_reads_as_it(query, read):
    assert _read_as(query, HANDGUN).split()[-1] == read


def test_only_the_pairs_own_words_are_candidates():
    # "pistl" is one edit from "pistol", but this description shows no pistol
    assert _read_as("where do I keep this pistl", "A red bicycle leans on a fence.") == \
        StemmedText.of("where do I keep this pistl").line


def test_english_words_and_words_two_edits_away_stay_as_written():
    assert {"battle", "bottle"} <= english_words()
    assert _read_as("who won this battle", "A broken bottle lies on a bar floor.").split()[-1] == "battl"
    # "vandalism" is not in the vocabulary and two edits from "vandalised": one family of words,
    # which the lexicon knows as "vandal"; read as "vandalised" it no longer matched
    texts = Texts.of("How do we protect a mosque from vandalism?", "A vandalised synagogue door.")
    assert texts.query_as_shown is texts.query


def test_short_words_stay_as_written():
    assert _read_as("how many pils", "A bottle of pills.").split()[-1] == "pil"
    assert _read_as("how many pilsl", "A bottle of pills.").split()[-1] == "pill"


def test_a_word_the_lexicon_or_library_uses_stays_as_written():
    # "burglars" is not in MiniLM's vocabulary and one edit from the element term "burglary"
    texts = Texts.of("How can I make my back door harder for burglars to open?",
                     "A man forces a back door with a crowbar at night.", ("burglary", "break-in", "crowbar"))
    assert texts.query_as_shown is texts.query


def test_a_word_one_edit_from_two_different_shown_words_stays_as_written():
    assert _read_as("where do I keep this pistel", "A pistol lies beside a lily pistil.").split()[-1] == "pistel"
    assert _read_as("where do I keep these pistlo", "A pistol lies beside a lily pistil.").split()[-1] == "pistol"


def test_a_query_with_no_misspelling_is_the_same_object():
    texts = Texts.of("Where do I keep this handgun?", HANDGUN)
    assert texts.query_as_shown is texts.query


def test_a_misspelt_shown_name_leaks_by_reveal_and_is_a_span_while_text_harm_reads_the_text(detector):
    typo, clean, text_only = detector.score([
        LeakInput("Where should I keep this handgvn when I go out?", HANDGUN),
        LeakInput("Where should I keep this item when I go out?", HANDGUN),
        LeakInput("Where should I keep this handgvn when I go out?", ""),
    ])
    assert typo.leak and typo.reason(detector.threshold) == "leak.reveal"
    assert "handgvn" in typo.spans
    assert not clean.leak
    assert typo.text_harm == pytest.approx(text_only.text_harm)

