"""Text as the guardrail reads it: what `plain` reads (pipeline.plain_text), and the disguises
only the hard block undoes.

`plain` is shared with the leak detector, whose scores must not move, so the folds a word
list needs and a detector does not live here:
- accents are dropped ("chïld nüde" reads "child nude");
- in a word mixing Latin letters with Cyrillic or Greek look-alikes ("nаked" with a Cyrillic
  "а"), the look-alikes read as the Latin letters they show; a word written in one script
  is left alone, so Russian or Greek text stays what it is;
- words joined by an underscore or run together in camelCase ("child_nude", "ChildNude")
  are also read apart (`joins_apart`), as an extra reading: "OnlyFans" must still read
  "onlyfans".
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.plain_text import plain

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})  # "emily carter’s"
# Cyrillic and Greek letters that show as a Latin one.
_LOOKALIKES = str.maketrans({
    **dict(zip("авеікмнорстухјѕһԁӏ", "abeikmhopctyxjshdl")),
    **dict(zip("АВЕЅІЈКМНОРСТХ", "ABESIJKMHOPCTX")),
    **dict(zip("αεηικνορτυχ", "aenikvoptux")),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX")),
})
_LOOKALIKE_LETTERS = frozenset(chr(code) for code in _LOOKALIKES)
_WORD = re.compile(r"[^\W\d_]+")
_JOINS = re.compile(r"_|(?<=[a-z])(?=[A-Z])")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(char for char in decomposed if not unicodedata.combining(char)))


def _fold_mixed_word(match: re.Match) -> str:
    word = match.group()
    if any("a" <= char.lower() <= "z" for char in word) and not _LOOKALIKE_LETTERS.isdisjoint(word):
        return word.translate(_LOOKALIKES)
    return word


def guard_reading(text: str) -> str:
    """The text with look-alike letters, hidden characters, emoji, accents and mixed-script words
    read as what they show."""
    text = plain(text).translate(_APOSTROPHES)
    if text.isascii():
        return text
    return _WORD.sub(_fold_mixed_word, _strip_accents(text))


def joins_apart(text: str) -> str:
    """The text with underscore and camelCase joins read as spaces."""
    return _JOINS.sub(" ", text)
