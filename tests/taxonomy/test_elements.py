"""The team-written element library: coverage, shape, and the no-instructions guardrail."""

import re
from collections import Counter

import pytest

from pipeline.lexicon import contains_term
from pipeline.taxonomy import load_elements, load_taxonomy

# What a working instruction looks like: numbered steps, quantities, recipe words.
INSTRUCTION_MARKERS = [
    r"\bstep\s*(?:\d+|one|two|three)\b",
    r"\b\d+(?:\.\d+)?\s*(?:g|mg|kg|ml|l|grams?|milligrams?|ounces?|oz|cups?|tablespoons?)\b",
    r"\brecipe\b",
    r"\binstructions?\b",
    r"\bhow to\b",
    r"\b(?:mix|combine|dissolve|stir) (?:it|them|the|with|in|into)\b",
    r"\b(?:first|then|next|finally),",
    r"\bheat (?:it|to|until)\b",
]
MARKER = re.compile("|".join(INSTRUCTION_MARKERS), re.IGNORECASE)

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


def test_both_kinds_appear_and_only_known_kinds():
    assert Counter(e.kind for e in ELEMENTS).keys() == {"object", "scenario"}


@pytest.mark.parametrize("element", ELEMENTS, ids=lambda e: f"{e.sub_category}/{e.element}")
def test_element_shape(element):
    assert element.description.strip()
    assert contains_term(element.description, [element.element, *element.synonyms])
    assert 2 <= len(element.synonyms) <= 6
    assert 1 <= len(element.broader) <= 3
    assert element.element.lower() not in {s.lower() for s in element.synonyms}
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
