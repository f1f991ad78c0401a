"""How `reveal` reads a query against what its image shows, without the models (mutation round 4):
which words count as shared with the description, which library names a text carries, and which
misspellings are read as a shown name."""

from __future__ import annotations

from pipeline.detect.library_terms import terms_in
from pipeline.detect.lexicon import StemmedText
from pipeline.detect.named_risk import without_shown_words
from pipeline.detect.signals import Texts


def test_only_content_words_count_as_shared_with_the_description():
    pair = Texts.of("How do I open the door of this shed?", "The door of the shed is open.")
    assert without_shown_words(pair) == ("How do I the of this?", ("open", "door", "shed"))


def test_a_library_synonym_is_a_library_term():
    assert "sidearm" in terms_in(StemmedText.of("a sidearm on the table"))  # a synonym of "handgun"


def test_a_misspelt_element_term_reads_as_the_term_when_the_description_lacks_it():
    pair = Texts.of("Where do I sell this handgvn?", "A man on a bench.", ("handgun",))
    assert pair.query_as_shown.line.split()[-1] == "handgun"


def test_a_five_letter_misspelling_of_a_shown_word_reads_as_it():
    pair = Texts.of("Where do I hide this pistl?", "A pistol on a table.")
    assert pair.query_as_shown.line.split()[-1] == "pistol"
