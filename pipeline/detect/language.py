"""The detector's scope: English. A query in another language is marked, not scored as safe.

MiniLM and the lexicon are English-only, so a Spanish request for a weapon would
score low and read as leakless. A cheap test suffices to mark such rows: a query
is taken as English unless most of its letters lie outside ASCII, or it has four
or more words and not one of them is a common English function word.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+")
_FUNCTION_WORDS = frozenset(
    "a an the this that these those is are was were be been am do does did have has had i you he she it we they "
    "me him her us them my your his its our their what which who whom whose how why when where can could should "
    "would will shall may might must to of in on at by for with from into about as and or but if not no so than "
    "then there here some any all each more most very just also only like get make use way".split()
)


def is_english(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return True  # nothing to judge: no words, no other language either
    if sum(not c.isascii() for c in letters) > len(letters) / 2:
        return False
    words = [w.lower() for w in _WORD.findall(text)]
    return len(words) < 4 or any(w in _FUNCTION_WORDS for w in words)
