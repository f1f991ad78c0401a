"""Text as the leak detector and the guardrails read it.

A reader sees "ｃｏｃａｉｎｅ", "co\u200bcaine" and "🔫" for what they are; a lexicon or a
block rule over `[a-z0-9]+` does not, so an edit could hide the shown object's name, or
a minor reference, in plain sight. `plain` folds look-alike letters to plain ones
(NFKC), spells each emoji out by its CLDR name (the `emoji` package: "🔫" reads
"water pistol", "💊" "pill") and drops invisible format characters. ASCII text comes
back unchanged.
"""

from __future__ import annotations

import unicodedata

import emoji


def _spelled_out(_chars: str, data: dict) -> str:
    return " " + data["en"].strip(":").replace("_", " ") + " "


def plain(text: str) -> str:
    if text.isascii():
        return text
    folded = unicodedata.normalize("NFKC", text)
    named = emoji.replace_emoji(folded, replace=_spelled_out)  # before dropping the joiners of a sequence
    return "".join(char for char in named if unicodedata.category(char) != "Cf")
