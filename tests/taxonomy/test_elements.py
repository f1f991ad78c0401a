"""The team-written element library: coverage, shape, and the no-instructions guardrail."""

from collections import Counter
from typing import get_args

import pytest

from pipeline.records import Element
from pipeline.elements.checks import INSTRUCTION, instructions_found, shape_problem
from pipeline.taxonomy import load_elements, load_taxonomy

MARKER = INSTRUCTION  # the library's own, stricter bar; grown elements pass `instructions_found`

ELEMENTS = load_elements()


def test_library_covers_every_sub_category_with_its_parent():
    taxonomy = load_taxonomy()
    counts = Counter((e.category, e.sub_category) for e in ELEMENTS)
    assert set(counts) == set((parent, sub) for sub, parent in taxonomy.sub_categories.items())
    assert len(counts) == 19
    assert min(counts.values()) >= 8
    assert len(ELEMENTS) == 380


def test_element_names_are_unique_within_a_sub_category():
    names = Counter((e.sub_category, e.element.lower()) for e in ELEMENTS)
    assert [key for key, n in names.items() if n > 1] == []


def test_every_kind_appears():
    kinds = set(get_args(Element.model_fields["kind"].annotation))
    assert kinds == {"object", "substance", "person_or_body", "scene_or_event", "document_or_screen", "place"}
    assert {e.kind for e in ELEMENTS} == kinds


def test_an_unknown_kind_is_a_bad_line(tmp_path):
    line = ELEMENTS[0].model_dump_json().replace('"kind":"object"', '"kind":"scenario"')
    library = tmp_path / "elements.jsonl"
    library.write_text(ELEMENTS[1].model_dump_json() + "\n" + line + "\n")
    with pytest.raises(ValueError, match=r"elements.jsonl:2: not a valid element"):
        load_elements(library)


@pytest.mark.parametrize("element", ELEMENTS, ids=lambda e: f"{e.sub_category}/{e.element}")
def test_element_shape(element):
    assert shape_problem(element) is None  # the shape every grown element must have too
    assert instructions_found(element) is None  # and the instruction check every grown element passes
    assert not MARKER.search(element.description), element.description


@pytest.mark.parametrize("text", [
    "Step 1: crush the tablets.",
    "Add 5 grams of powder to the jar.",
    "A recipe card pinned to the fridge.",
    "First, open the valve.",
    "Mix it with water and heat to boiling.",
])
def test_instruction_marker_catches_instructions(text):
    assert MARKER.search(text)


@pytest.mark.parametrize("text", [
    "Protesters climb the marble steps of a courthouse.",
    "A man sorting pills into piles on a table.",
])
def test_instruction_marker_passes_plain_descriptions(text):
    assert not MARKER.search(text)
