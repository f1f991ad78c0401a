"""What every proposed element must pass before its novelty is even measured:
the guardrails' hard block, no working instructions, and the library's own shape, which
also refuses the structural junk a small model writes in place of a term (a sentence, a JSON
fragment, a stop word, an identifier, the sub-category's own name)."""

from __future__ import annotations

import re

from pipeline.elements.instructions import INSTRUCTION, procedure_in
from pipeline.elements.novelty import name_keys
from pipeline.guardrails import GuardHit, check_texts
from pipeline.lexicon import contains_term, load_lexicon
from pipeline.llm.roles import BROADER, MAX_DESCRIPTION_CHARS, MAX_TERM_CHARS, SYNONYMS
from pipeline.records import Element

# INSTRUCTION is read by the library's own test, which holds the team's descriptions to it.
__all__ = ["INSTRUCTION", "guardrail_hit", "instructions_found", "refusal", "shape_problem"]


# The shipped library's longest name has seven words ("harassment of a woman in a headscarf"):
# past that a "name" is the model talking ("Sure, here are four new elements for you").
MAX_TERM_WORDS = 7
# What a term cut out of the model's JSON answer keeps of it; no name or term holds one.
JSON_PUNCTUATION = re.compile(r'[{}":]')
IDENTIFIER = re.compile(r"[^\W_]_[^\W_]")  # "prisoner_of_the_night"


def shape_problem(element: Element) -> str | None:
    """Why `element` is not in the library's shape, or None (the rules tests/taxonomy/test_elements.py
    holds the team-written library to)."""
    if not element.element.strip() or not element.description.strip():
        return "empty name or description"
    if not SYNONYMS[0] <= len(element.synonyms) <= SYNONYMS[1]:
        return f"{len(element.synonyms)} synonyms, not {SYNONYMS[0]} to {SYNONYMS[1]}"
    if not BROADER[0] <= len(element.broader) <= BROADER[1]:
        return f"{len(element.broader)} broader terms, not {BROADER[0]} to {BROADER[1]}"
    # A photo's description in one or two sentences: a longer one is the model rambling, and it would
    # feed every seed and image prompt made from the element.
    if len(element.description) > MAX_DESCRIPTION_CHARS:
        return f"the description has {len(element.description)} characters; at most {MAX_DESCRIPTION_CHARS}"
    junk = _junk_term("the name", element.element) or _repeated_taxonomy_name(element) or next(
        filter(None, (_junk_term(role, term) for role, term in _other_terms(element))), None)
    if junk:
        return junk
    if element.element.lower() in {synonym.lower() for synonym in element.synonyms}:
        return "its name is among its synonyms"
    if not contains_term(element.description, [element.element, *element.synonyms]):
        return "the description names neither the element nor a synonym"
    return None


def _other_terms(element: Element) -> list[tuple[str, str]]:
    return [*(("a synonym", term) for term in element.synonyms),
            *(("a broader term", term) for term in element.broader)]


def _junk_term(role: str, term: str) -> str | None:
    """Why a name, synonym or broader term is no term at all, or None. A sentence or a JSON
    fragment is not quoted; a stop word or a letter is, so a user can find it in their line."""
    words = term.split()
    if len(words) > MAX_TERM_WORDS:
        return f"{role} is a sentence ({len(words)} words; a term has at most {MAX_TERM_WORDS})"
    if len(term) > MAX_TERM_CHARS:  # seven words of run-together text, or one endless token
        return f"{role} has {len(term)} characters; a term has at most {MAX_TERM_CHARS}"
    if found := JSON_PUNCTUATION.search(term):
        return f"{role} holds JSON punctuation ({found.group(0)!r})"
    if IDENTIFIER.search(term):
        return f"{role} is an identifier (words joined by underscores), not a term"
    stopwords = load_lexicon().stopwords
    if all(len(word) == 1 or word.lower() in stopwords for word in words):
        return f"{role} ({term!r}) is a stop word or one letter"
    return None


def _repeated_taxonomy_name(element: Element) -> str | None:
    """A name that only repeats where it was asked for ("self-harm" in Self-Harm): no element."""
    keys = name_keys(element.element)
    for level, name in (("sub-category", element.sub_category), ("category", element.category)):
        if keys & name_keys(name):
            return f"the name repeats its {level} {name!r}"
    return None


def guardrail_hit(element: Element) -> GuardHit | None:
    """The hard block's rule the element breaks, its texts read together with its category."""
    return check_texts([element.element, element.description, *element.synonyms, *element.broader],
                       element.category)


def instructions_found(element: Element) -> str | None:
    """Which term reads as working instructions, what it has and the words found, or None. The name
    and the other terms are read too: "how to build a pipe bomb" names a procedure, not an object."""
    for role, text in (("the name", element.element), *_other_terms(element), ("the description", element.description)):
        if found := procedure_in(text):
            what, words = found
            return f"{role} reads as working instructions ({what}): {words!r}"
    return None


def refusal(element: Element) -> tuple[str, str] | None:
    """(reason code, detail) when a proposal may not join the store whatever its novelty."""
    hit = guardrail_hit(element)
    if hit:
        return "element.guardrail", f"guardrail {hit.rule}: {hit.matched!r}"
    if found := instructions_found(element):
        return "element.instructions", found
    problem = shape_problem(element)
    if problem:
        return "element.shape", problem
    return None
