"""Deixis for the rules rewriter: how a rewrite points at what the image shows.

A benchmark query that always says "what is shown in the image" teaches a model to
look at the image whenever it reads that phrase. So each rewrite gets a reference
that fits the element's kind and number ("this substance", "these items", "a
gathering like this", "what she is holding") from `prompts/offline/references.toml`,
chosen deterministically from the item id, and never one that names an element term or
shares a content word with one ("what you see on their wrists" does not refer to
"bandaged wrists", and "this bridge scene" does not refer to "bridge railing climb").
"""

from __future__ import annotations

import random
import re
import tomllib
from dataclasses import dataclass

from pipeline.lexicon import contains_term, load_lexicon, stem, words
from pipeline.prompts import prompt_path, text_hash

REFERENCES = "offline/references.toml"
HOLDS = r"(?:holding|gripping|clutching|carrying|raising|wielding|cradling|pouring|showing|cupping)"
_HOLDER = re.compile(rf"\b(man|boy|woman|girl|person|teen|someone|hand|fist)\b(?:\W+\w+){{0,6}}?\W+{HOLDS}\b",
                     re.IGNORECASE)
_HE = re.compile(r"\b(?:man|boy|father|husband|his)\b", re.IGNORECASE)
_SHE = re.compile(r"\b(?:woman|girl|mother|wife|her)\b", re.IGNORECASE)
# The head noun of an element phrase is the last word before its first preposition or participle.
_HEAD_ENDS = re.compile(r"\s+(?:in|on|with|of|by|at|from|for|under|around|behind|to|into|against|"
                        r"held|aimed|wrapped|torn)\s", re.IGNORECASE)


# The tables `References.pick` and `lead_in` read; every other one is a kind's.
READ_TABLES = ("any", "held", "cued", "lead_ins")


# `pick` fills texts through these, and the build's preflight (pipeline/cli/prompt_checks.py) renders
# each text of the file through them with sample values: a misspelt placeholder stops no build midway.
def held_reference(text: str, holder: str, their: str) -> str:
    return text.format(holder=holder, their=their)


def cued_reference(text: str, cue: str, their: str) -> str:
    return text.format(cue=cue, their=their)


@dataclass(frozen=True)
class Deixis:
    first: str  # the first reference: "this substance"
    later: str  # every later one: "it"


def is_plural(element: str) -> bool:
    """Whether an element phrase names several things ("zip ties", "pills in plastic bags")."""
    head = _HEAD_ENDS.split(f" {element.strip()} ", maxsplit=1)[0].split()
    word = head[-1].lower() if head else ""
    return len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ics"))


# A description that opens on its medium ("A black and white photo of", "The image shows") names its subject after it.
_MEDIUM = re.compile(r"^\W*(?:(?:this|it)\s+is\s+)?(?:(?:a|an|the|this)\s+)?(?:[\w-]+\s+){0,3}?"
                     r"(?:photo|photograph|image|picture|drawing|screenshot|close-up|view|shot|painting|illustration)"
                     r"\s+(?:is\s+of|is|of|showing|shows|depicts|displays|features)\s+", re.IGNORECASE)
# Where a description's subject phrase ends: a clause mark, a preposition but "of" ("A pile of pills" shows
# pills), a conjunction, or a participle with its object ("A man gripping a knife"; in "A folding knife" it is
# the noun's adjective).
_SUBJECT_ENDS = re.compile(r"[,.;:!?]|\s(?:in|on|with|by|at|from|for|under|around|behind|to|into|against|near|"
                           r"beside|outside|inside|over|while|and|who|that|which|is|are)\s|"
                           r"\s[a-z]{3,}(?:ing|ed)\s+(?:a|an|the|this|his|her|their|its|some|up|down|out|off)\b",
                           re.IGNORECASE)


def subject_phrase(description: str) -> str:
    """The words a description opens on, up to its first preposition, participle or clause mark: what
    the image shows first ("A tall electricity pylon", "A blister pack of Xanax tablets")."""
    text = description.strip()
    for _ in range(2):  # "This image shows a close-up view of a hand": two frames
        text = _MEDIUM.sub("", text, count=1)
    end = _SUBJECT_ENDS.search(text)
    return text[:end.start()] if end else text


def holder(description: str) -> tuple[str, str] | None:
    """("he", "his"), ("she", "her") or ("this person", "their") when the description has
    someone holding something; None otherwise."""
    match = _HOLDER.search(description)
    if not match:
        return None
    before = description[:match.end()]
    if _SHE.search(before):
        return "she", "her"
    if _HE.search(before):
        return "he", "his"
    return "this person", "their"


def possessive(description: str) -> str:
    if _SHE.search(description):
        return "her"
    return "his" if _HE.search(description) else "their"


def _content_stems(texts: tuple[str, ...]) -> set[str]:
    lexicon = load_lexicon()
    return {stem(m.group()) for text in texts for m in words(text) if lexicon.is_content_word(m.group())}


class References:
    def __init__(self):
        source = prompt_path(REFERENCES).read_text(encoding="utf-8")
        self.table = tomllib.loads(source)
        self.content_hash = text_hash(source)

    def kinds(self) -> list[str]:
        return [name for name, value in self.table.items() if isinstance(value, dict) and "later" in value]

    def pick(self, rng: random.Random, kind: str, terms: tuple[str, ...], description: str) -> Deixis:
        section = self.table.get(kind) or self.table["any"]
        plural = bool(terms) and is_plural(terms[0])
        options = list(section["plural" if plural else "singular"])
        number = "plural" if plural else "singular"
        who = holder(description)
        if who and kind in ("object", "substance"):
            options += [held_reference(held, *who) for held in self.table["held"][number]]
        for cued in self.table["cued"]:
            cue = re.search(rf"\b(?:{'|'.join(cued['when'])})\b", description, re.IGNORECASE)
            if kind in cued["kinds"] and cue:
                their = possessive(description)
                options += [cued_reference(ref, cue.group().lower(), their) for ref in cued[number]]
        named = _content_stems(terms)
        fitting = [option for option in options
                   if not contains_term(option, terms) and not named & _content_stems((option,))] or ["this"]
        return Deixis(rng.choice(fitting), section["later_plural" if plural else "later"])

    def lead_in(self, rng: random.Random) -> str:
        return rng.choice(self.table["lead_ins"]["phrases"])
