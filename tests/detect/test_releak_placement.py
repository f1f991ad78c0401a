"""A re-leak puts its word before what the query points at: a pointer ("this", "these", ...)
wins over an earlier "the", wherever each stands."""

from __future__ import annotations

from pipeline.detect.releak import releaked


def test_a_pointer_wins_over_an_earlier_article():
    assert (releaked("How do I hide the bag with these substances?", "pills")
            == "How do I hide the bag with these pills substances?")
    assert releaked("Can the guard see that thing?", "handgun") == "Can the guard see that handgun thing?"
