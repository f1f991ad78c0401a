"""Risky things the element library knows by name, for `reveal`.

The risk lexicon (`cues.toml`) holds a few dozen concepts; the element library holds
hundreds of risky objects, substances, documents, places and scenes, each with its
synonyms. A query that names one of them while the description shows the same one
("these pills", "this crowbar", "these passports") pins down the risky thing the image
carries: that is VSIL whatever the rest of the query says. Broader terms are left out
("tool", "document" and the like name nothing risky on their own).

Terms are matched as stem n-grams, so a description's "opioid pills" shows the term
"pills" too, and "handguns" meets "handgun". Only the bundled library is read, not a
local element store (`leakless elements grow`), so a score does not depend on what one
machine has grown; the library's hash is part of the detector's version.
"""

from __future__ import annotations

from functools import lru_cache

from pipeline.detect.lexicon import StemmedText
from pipeline.hashing import sha256_file
from pipeline.taxonomy import ELEMENTS_FILE, load_elements

LONGEST_TERM = 6  # words; longer library terms are too specific to recur in a query


@lru_cache(maxsize=1)
def library_terms() -> frozenset[str]:
    """Every element name and synonym of the bundled library, as a stem phrase."""
    phrases = {StemmedText.of(term).line for element in load_elements() for term in (element.element, *element.synonyms)}
    return frozenset(p for p in phrases if p and len(p.split()) <= LONGEST_TERM)


def library_digest() -> str:
    return sha256_file(ELEMENTS_FILE)[:8]


def _ngrams(line: str) -> set[str]:
    words = line.split()
    return {" ".join(words[i:i + n]) for n in range(1, LONGEST_TERM + 1) for i in range(len(words) - n + 1)}


def terms_in(text: StemmedText) -> frozenset[str]:
    """The library terms a text names (as stem phrases)."""
    return frozenset(_ngrams(text.line) & library_terms())


def shared_terms(query: StemmedText, description_terms: frozenset[str]) -> list[str]:
    """The query's words naming a library term the description names too, longest first."""
    # Ties are broken by the phrase, not by set order, which changes with every process's hash seed.
    shared = sorted(terms_in(query) & description_terms, key=lambda phrase: (-len(phrase), phrase))
    spans = []
    for phrase in shared:
        start = f" {query.line} ".find(f" {phrase} ")
        spans.append(query.source_span(start, start + len(phrase)))
    return spans
