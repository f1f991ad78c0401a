"""Text as the leak detector and the guardrails read it.

A reader sees "ｃｏｃａｉｎｅ", "co\u200bcaine", "c o c a i n e" and "🔫" for what they
are; a lexicon or a block rule over `[a-z0-9]+` does not, so an edit could hide the
shown object's name, or a minor reference, in plain sight. `plain` folds look-alike
letters to plain ones (NFKC), spells each emoji out by its CLDR name (the `emoji`
package: "🔫" reads "water pistol", "💊" "pill"), puts a right-to-left override's
letters in the order a screen shows them ("\u202eeniacoc\u202c" displays as
"cocaine"), drops invisible format characters, and joins letters spelled out one by
one ("c o c a i n e", "b-u-r-n-t"; a run after the article "a" is joined whole, "a r s e n i c"
reading "arsenic": the hard block reads it with the article apart too). It also
drops accents ("cocaíne"), reads small capitals as the letters they are ("ʜᴀɴᴅɢᴜɴ", which NFKC
leaves alone) and, in a word mixing Latin letters with Cyrillic, Greek, Armenian or Cherokee
look-alikes ("brаss" with a Cyrillic "а", "nսde" with an Armenian "ս"), reads the look-alikes as
the Latin letters they show; a word written in one script is left alone, so Russian or Greek text
stays what it is (the detector marks such a word out of its scope: `pipeline.language`). MiniLM's
uncased tokenizer drops accents itself, so only the lexicon and the element library read
differently: a review audit shipped "laxatíves" and "brаss knuckles" as leak-free edits. ASCII
text without spelled-out letters comes back unchanged.
"""

from __future__ import annotations

import re
import unicodedata

import emoji

_RIGHT_TO_LEFT_OVERRIDE = "\u202e"
# An override runs until its pop (U+202C) or the end of the paragraph.
_OVERRIDDEN = re.compile("\u202e([^\u202c\n]*)\u202c?")
# Three or more single letters with the same one space, hyphen, dot or underscore between
# each: a word spelled out to slip past word matching. Two spaces still separate words, and
# "a U.S. bill" keeps its article.
_SPELLED_OUT = re.compile(r"(?<![^\W\d_])[^\W\d_](?P<gap>[ .\-_])[^\W\d_](?:(?P=gap)[^\W\d_])+(?![^\W\d_])")
_SEPARATORS = re.compile(r"[ .\-_]")
# Cyrillic, Greek, Armenian and Cherokee letters that show as a Latin one (Unicode's confusables).
_LOOKALIKES = str.maketrans({
    **dict(zip("авеікмнорстухјѕһԁӏ", "abeikmhopctyxjshdl")),
    **dict(zip("АВЕЅІЈКМНОРСТХ", "ABESIJKMHOPCTX")),
    **dict(zip("αεηικνορτυχ", "aenikvoptux")),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX")),
    **dict(zip("օսհոզց", "ouhnqg")),
    **dict(zip("ᎪᏴᏟᎠᎬᏀᎻᎫᏦᏞᎷᏢᎡᏚᎢᏙᎳᏃ", "ABCDEGHJKLMPRSTVWZ")),
})
_LOOKALIKE_LETTERS = frozenset(chr(code) for code in _LOOKALIKES)
# Latin small capitals, which NFKC leaves alone: Latin letters, read as such in any word.
_SMALL_CAPITALS = str.maketrans(dict(zip("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡʏᴢ", "abcdefghijklmnopqrstuvwyz")))
_WORD = re.compile(r"[^\W\d_]+")


def _spelled_out(_chars: str, data: dict) -> str:
    return " " + data["en"].strip(":").replace("_", " ") + " "


def _displayed(match: re.Match) -> str:
    return match.group(1)[::-1]


def _joined(match: re.Match) -> str:
    return _SEPARATORS.sub("", match.group())


def _fold_mixed_word(match: re.Match) -> str:
    word = match.group()
    if any("a" <= char.lower() <= "z" for char in word) and not _LOOKALIKE_LETTERS.isdisjoint(word):
        return word.translate(_LOOKALIKES)
    return word


def _base_letter(char: str) -> str:
    base = "".join(part for part in unicodedata.normalize("NFD", char) if not unicodedata.combining(part))
    return base if len(base) == 1 else char


def folded_letters(text: str) -> str:
    """`text` with accents dropped and mixed-script look-alikes read as Latin, character for
    character: the same length, so a match in it is a span of `text`. The rules rewriter and the
    term matchers find "laxatíves" and "brаss knuckles" through it, as the detector reads them."""
    if text.isascii():
        return text
    return _WORD.sub(_fold_mixed_word, "".join(map(_base_letter, text)).translate(_SMALL_CAPITALS))


def plain(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        if _RIGHT_TO_LEFT_OVERRIDE in text:
            text = _OVERRIDDEN.sub(_displayed, text)
        text = emoji.replace_emoji(text, replace=_spelled_out)  # before dropping the joiners of a sequence
        # invisible format characters and accents left apart from their letter go; then each letter
        # reads as its base ("í" as "i"), and look-alikes in a mixed-script word as Latin
        text = folded_letters("".join(char for char in text
                                      if unicodedata.category(char) != "Cf" and not unicodedata.combining(char)))
    return _SPELLED_OUT.sub(_joined, text)


def has_words(text: str) -> bool:
    """Whether a text holds anything to read ("?" and "" do not; an emoji reads as its name)."""
    return any(character.isalnum() for character in plain(text))


def plain_with_origins(text: str) -> tuple[str, list[tuple[int, int]]]:
    """`text` read as `plain` reads it (look-alike and accented letters folded, invisible characters
    dropped, emoji spelled out, spelled-out letters joined; a right-to-left override is left in typed
    order), with the characters of `text` behind each character read: a detector span found in the
    reading marks what the annotator typed ("h-a-n-d-g-u-n" for "handgun")."""
    chars: list[str] = []
    origins: list[tuple[int, int]] = []
    emojis = {found["match_start"]: found for found in emoji.emoji_list(text)}
    index = 0
    while index < len(text):
        if found := emojis.get(index):
            name = _spelled_out(found["emoji"], emoji.EMOJI_DATA.get(found["emoji"], {"en": ""}))
            chars += name
            origins += [(index, found["match_end"])] * len(name)
            index = found["match_end"]
            continue
        for part in unicodedata.normalize("NFKC", text[index]):
            if unicodedata.category(part) != "Cf" and not unicodedata.combining(part):
                chars.append(part)
                origins.append((index, index + 1))
        index += 1
    read = folded_letters("".join(chars))  # the same length, so `origins` still lines up
    gaps = {at for match in _SPELLED_OUT.finditer(read) for at in range(match.start(), match.end())
            if _SEPARATORS.fullmatch(read[at])}
    kept = [at for at in range(len(read)) if at not in gaps]
    return "".join(read[at] for at in kept), [origins[at] for at in kept]
