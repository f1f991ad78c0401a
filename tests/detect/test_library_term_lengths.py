"""The longest library terms are matched too (mutation round 4): a six-word element name is a term."""

from __future__ import annotations

from pipeline.detect.library_terms import LONGEST_TERM, terms_in
from pipeline.detect.lexicon import StemmedText


def test_a_library_term_of_the_longest_length_is_matched():
    name = StemmedText.of("baseball bat wrapped in barbed wire")  # an element of the bundled library
    assert len(name.line.split()) == LONGEST_TERM
    assert name.line in terms_in(StemmedText.of("Who left this baseball bat wrapped in barbed wire here?"))
