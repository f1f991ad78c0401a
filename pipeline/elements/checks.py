"""What every proposed element must pass before its novelty is even measured:
the guardrails' hard block, no working instructions, and the library's own shape."""

from __future__ import annotations

import re

from pipeline.guardrails import check_texts
from pipeline.lexicon import contains_term
from pipeline.records import Element

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
INSTRUCTION = re.compile("|".join(INSTRUCTION_MARKERS), re.IGNORECASE)


def shape_problem(element: Element) -> str | None:
    """Why `element` is not in the library's shape, or None (the rules tests/taxonomy/test_elements.py
    holds the team-written library to)."""
    if not element.element.strip() or not element.description.strip():
        return "empty name or description"
    if not 2 <= len(element.synonyms) <= 6:
        return f"{len(element.synonyms)} synonyms, not 2 to 6"
    if not 1 <= len(element.broader) <= 3:
        return f"{len(element.broader)} broader terms, not 1 to 3"
    if element.element.lower() in {synonym.lower() for synonym in element.synonyms}:
        return "its name is among its synonyms"
    if not contains_term(element.description, [element.element, *element.synonyms]):
        return "the description names neither the element nor a synonym"
    return None


def refusal(element: Element) -> tuple[str, str] | None:
    """(reason code, detail) when a proposal may not join the store whatever its novelty."""
    hit = check_texts([element.element, element.description, *element.synonyms, *element.broader],
                      element.category)
    if hit:
        return "element.guardrail", f"guardrail {hit.rule}: {hit.matched!r}"
    found = INSTRUCTION.search(element.description)
    if found:
        return "element.instructions", f"the description reads as instructions: {found.group(0)!r}"
    problem = shape_problem(element)
    if problem:
        return "element.shape", problem
    return None
