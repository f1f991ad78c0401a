"""Mutation round 16's pins for the grown-element checks: the description's length bound at the schema's
400 characters, and the instruction check's frames (one sentence for first ... then, a materials list
after "you will need", ratios with "with" or "per", three measured amounts, not two, and counts of parts
or doses that are no measured amount)."""

from __future__ import annotations

import pytest

from pipeline.elements.checks import shape_problem
from pipeline.elements.instructions import procedure_in
from pipeline.llm.roles import MAX_DESCRIPTION_CHARS
from pipeline.records import Element


def element(description: str) -> Element:
    return Element(category="Illegal Activity", sub_category="Cybercrime", element="card shimming wafer",
                   synonyms=("wafer kit", "wafer tool"), broader=("fraud device",), description=description)


def test_a_description_one_character_past_the_bound_is_out_of_shape():
    start = "A card shimming wafer held in tweezers above a card terminal"
    at_bound = start + " " + "x" * (MAX_DESCRIPTION_CHARS - len(start) - 2) + "."
    assert len(at_bound) == MAX_DESCRIPTION_CHARS and shape_problem(element(at_bound)) is None
    past = at_bound[:-1] + "x."
    assert shape_problem(element(past)) == f"the description has {MAX_DESCRIPTION_CHARS + 1} characters; at most 400"


def test_first_and_then_in_two_sentences_are_no_sequence():
    assert procedure_in("First take a look at the shelf. The old jars then hold rainwater.") is None


@pytest.mark.parametrize("text, what", [
    ("A workbench. You will need: wire, tape and a timer.", "a materials list"),
    ("Mix two parts bleach with one part ammonia.", "a ratio"),
    ("Two parts acetone per one part oil.", "a ratio"),
])
def test_a_procedure_in_these_frames_is_found(text, what):
    assert procedure_in(text)[0] == what


@pytest.mark.parametrize("text", ["A scale showing 5 g beside a vial labelled 10 mg.",
                                  "A pharmacy shelf with 2 doses, 3 doses and 5 g sachets."])
def test_two_amounts_or_counted_doses_are_no_formula(text):
    assert procedure_in(text) is None
