"""The hard block's second reading of a text: the obfuscations a red-teamer tries first, which
`plain` (shared with the leak detector) does not read.

- Look-alike letters in a word of their own script: Unicode small capitals ("ᴛᴇᴇɴ ɴᴜᴅᴇ"), Armenian
  ("nսde") and Cherokee ("ᏚEX") letters, and whole words of Cyrillic or Greek look-alikes ("кіԁ",
  "ѕех", "κιԁ"), which `plain` folds only inside a word that mixes scripts.
- Leetspeak inside a word that mixes letters and digits ("t33n", "nud3", "ch1ld", "$3xy"); a number
  alone ("13 y/o") stays a number.
- A word spelled out after the article "a" or "I" ("a m i n o r"): read with the article apart
  ("a minor"), as `plain` reads it with spaces, and joined whole ("a r o u s e d" is "aroused"), as
  `plain` reads it with hyphens, dots or underscores: the one letter may be the word's first.
- Digits of other scripts ("१२-year-old"), which NFKC leaves as they are, read as 0-9.

It is a reading the block checks besides the one it has (`reading.guard_reading`), never instead:
"12yo" read as leetspeak is no age, and the first reading still sees it.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

from pipeline.plain_text import _LOOKALIKES as MIXED_WORD_LOOKALIKES  # Cyrillic and Greek, as `plain` folds them
from pipeline.plain_text import _SEPARATORS, _SPELLED_OUT

_ARMENIAN = dict(zip("հոսօցզքՍՕԼ", "hnuogqpUOL"))
# Cherokee capitals that show as a Latin capital; its small letters are read as their capitals first.
_CHEROKEE = dict(zip("ᎪᏴᏟᎠᎬᏀᎻᎥᎫᏦᏞᎷᏢᎡᏚᎢᏙᏔᏃᎳᏩ", "ABCDEGHiJKLMPRSTVWZWY"))
_OTHER_LATIN = {"ɡ": "g", "ı": "i", "ȷ": "j", "ɑ": "a", "ꞵ": "b"}
# In a word of letters and digits, the digit or sign read as the letter it stands for.
_LEET = str.maketrans({"3": "e", "1": "i", "0": "o", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # a decimal digit of another script
_TOKEN = re.compile(r"[\w@$]+")
_LETTER_BESIDE_DIGIT = re.compile(r"[^\W\d_][\d@$]|[\d@$][^\W\d_]")
# A one-letter article before three or more single letters with the same gap: "a m i n o r".
_ARTICLE_THEN_SPELLED = re.compile(
    r"(?<![^\W\d_])(?P<article>[aAI])(?P<gap>[ .\-_])(?P<word>[^\W\d_](?:(?P=gap)[^\W\d_]){2,})(?![^\W\d_])")


@lru_cache(maxsize=1)
def _lookalikes() -> dict[int, str]:
    """Every letter above, and every 'LATIN LETTER SMALL CAPITAL X', as the Latin letter it shows."""
    table = {chr(code): letter for code, letter in MIXED_WORD_LOOKALIKES.items()}
    table.update({**_ARMENIAN, **_CHEROKEE, **_OTHER_LATIN})
    for code in range(sys.maxunicode + 1):
        name = unicodedata.name(chr(code), "")
        if found := re.fullmatch(r"LATIN LETTER SMALL CAPITAL ([A-Z])", name):
            table[chr(code)] = found.group(1).lower()
        elif name.startswith("CHEROKEE SMALL LETTER ") and chr(code).upper() in _CHEROKEE:
            table[chr(code)] = _CHEROKEE[chr(code).upper()].lower()
    return str.maketrans(table)


def lookalikes_folded(text: str) -> str:
    """The text (NFKC) with every Latin look-alike letter read as the letter it shows, whatever its word."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(_lookalikes())


def _digits_read(match: re.Match) -> str:
    return str(unicodedata.digit(match.group()))


def _leet_read(match: re.Match) -> str:
    token = match.group()
    return token.translate(_LEET) if _LETTER_BESIDE_DIGIT.search(token) else token


def _leet_words(text: str) -> str:
    """Leetspeak read in each word that mixes letters and digits ("t33n"), not in a number ("13 y/o")."""
    return _TOKEN.sub(_leet_read, text) if _LETTER_BESIDE_DIGIT.search(text) else text


def _article_apart(match: re.Match) -> str:
    return f"{match['article']} {match['word'].replace(match['gap'], '')}"


def _joined_whole(match: re.Match) -> str:
    return _SEPARATORS.sub("", match.group())


def _unhidden(text: str) -> str:
    folded = lookalikes_folded(text)
    if not folded.isascii():
        folded = _OTHER_DIGIT.sub(_digits_read, folded)
    return _leet_words(folded)


def obfuscation_readings(text: str) -> list[str]:
    """The text with look-alike letters and leetspeak read, and a spelled-out word after "a" or "I"
    read with that letter apart ("a m i n o r" is "a minor") and, as a second reading, joined whole
    ("a r o u s e d" is "aroused"; "I N T I M A T E" "INTIMATE"): the letter is an article or the
    word's first letter, and only one of the two readings finds the word."""
    unhidden = _unhidden(text)
    apart = _ARTICLE_THEN_SPELLED.sub(_article_apart, unhidden)
    if apart == unhidden:
        return [unhidden]
    return [apart, _SPELLED_OUT.sub(_joined_whole, unhidden)]
