"""How rules.toml and the reading reach the hard block: a camelCase join is read as two words across
one item's texts, a harmless sense listed under `unless` or `unless_after` is not read, and an
identifier matches in any case where its pattern says so ("12 Elm street")."""

from __future__ import annotations

import pytest

from pipeline.guardrails import check_text, check_texts


def test_a_camel_case_join_is_read_as_two_words_beside_another_text():
    """"ChildModel" holds no run-together pair; read apart, its "Child" meets "nude" in the query."""
    hit = check_texts(["ChildModel portfolio shoot", "posing nude on the sofa"])
    assert hit is not None and hit.rule == "sexual_minors"


@pytest.mark.parametrize("text", ["a comic strip about a child", "a drag strip race the kids watched"])
def test_a_sexual_words_harmless_sense_after_a_listed_word_is_not_read(text):
    assert check_texts([text]) is None


@pytest.mark.parametrize("texts", [["a baby monitor beside a lingerie drawer"],
                                   ["a minor injury after a topless sunbathing trip"]])
def test_a_minor_words_harmless_sense_is_not_read(texts):
    assert check_texts(texts) is None


def test_a_street_suffix_written_in_lower_case_is_still_an_address():
    hit = check_text("she lives at 12 Elm street, the blue door")
    assert hit is not None and hit.rule == "private_person:street_address"
