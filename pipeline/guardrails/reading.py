"""Text as the guardrail reads it: what `plain` reads (pipeline.plain_text: look-alike
letters, hidden characters, emoji, accents and mixed-script words read as what they show),
with curly apostrophes made straight, and words joined by an underscore or run together in
camelCase ("child_nude", "ChildNude") also read apart (`joins_apart`), as an extra reading:
"OnlyFans" must still read "onlyfans".
"""

from __future__ import annotations

import re

from pipeline.plain_text import plain

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})  # "emily carter’s"
_JOINS = re.compile(r"_|(?<=[a-z])(?=[A-Z])")


def guard_reading(text: str) -> str:
    """The text with look-alike letters, hidden characters, emoji, accents and mixed-script words
    read as what they show."""
    return plain(text).translate(_APOSTROPHES)


def joins_apart(text: str) -> str:
    """The text with underscore and camelCase joins read as spaces."""
    return _JOINS.sub(" ", text)
