"""Text as the guardrail reads it: what `plain` reads (pipeline.plain_text: look-alike
letters, hidden characters, emoji, accents and mixed-script words read as what they show),
with every dash read as a hyphen ("14–year–old" is "14-year-old"), the characters that show
as nothing dropped ("te\u3164en" is "teen"), curly apostrophes made straight, and words joined
by an underscore or run together in camelCase ("child_nude", "ChildNude") also read apart
(`joins_apart`), as an extra reading: "OnlyFans" must still read "onlyfans".

The dashes and blanks are read here, not in `plain`, because the leak detector's corpus
has texts that `plain` would then read differently (an em dash between two words).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

from pipeline.guardrails.obfuscation import obfuscation_readings
from pipeline.plain_text import plain

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})  # "emily carter’s"
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt), which shows as nothing,
# and the braille blank, which shows as a space inside a word. `plain` drops only the format
# characters among them; the Hangul fillers and the grapheme joiner are letters and marks.
_BLANKS = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
                     "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
                     "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")
_JOINS = re.compile(r"_|(?<=[a-z])(?=[A-Z])")


@lru_cache(maxsize=1)
def _dashes() -> dict[int, str]:
    """Every dash (Unicode category Pd: en, em, non-breaking hyphen...) and the minus signs, as "-"."""
    dashes = [code for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Pd"]
    return dict.fromkeys([*dashes, 0x2212, 0x207B, 0x208B], "-")


def guard_reading(text: str) -> str:
    """The text with look-alike letters, hidden characters, emoji, accents, mixed-script words
    and dashes read as what they show."""
    if text.isascii():
        return plain(text)
    # dashes before `plain`, so a word spelled out with en dashes is joined; blanks after it, so a
    # right-to-left override and an emoji's joiners are read first
    return _BLANKS.sub("", plain(text.translate(_dashes()))).translate(_APOSTROPHES)


def joins_apart(text: str) -> str:
    """The text with underscore and camelCase joins read as spaces."""
    return _JOINS.sub(" ", text)


def underscores_apart(text: str) -> str:
    """The text with underscore joins read as spaces ("Emily_Carter")."""
    return text.replace("_", " ")


def guard_readings(text: str) -> list[str]:
    """The text as `guard_reading` reads it and, where they differ, with the obfuscations of
    `obfuscation.py` read too: the block checks each ("12yo" is an age only in the first; "a r o u s e d"
    is "aroused" only joined whole, "a m i n o r" is "a minor" only with the article apart)."""
    unhidden = [reading for reading in obfuscation_readings(text) if reading != text]
    return list(dict.fromkeys((guard_reading(text), *map(guard_reading, unhidden))))
