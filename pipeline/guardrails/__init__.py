"""The hard block: content no run may produce, whatever the backend or config.

Two rules, checked at the seed, rewrite and image-prompt stages:
- sexual content involving minors: any minor reference together with any
  sexual reference in the same text, or any minor reference in an Erotic item;
- real private persons: personal identifiers (e-mail, phone, street address,
  ID numbers) or a person's full name (a known first name and a surname, in any case
  before a possessive, "Surname, First", or a title and a surname).

Word lists cannot know every name or every way to say "minor": the README's
Guardrails section says what that leaves.

The rules are deliberately broad. A false block costs one seed; a miss costs
the benchmark its reason to exist.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.plain_text import plain

RULES_FILE = Path(__file__).with_name("rules.toml")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})  # "emily carter’s"


@dataclass(frozen=True)
class GuardHit:
    rule: str
    matched: str


def _words_pattern(words: list[str]) -> str:
    alternatives = "|".join(sorted((re.escape(w.lower()) for w in words), key=len, reverse=True))
    return rf"\b(?:{alternatives})\b"


@dataclass(frozen=True)
class _Rules:
    minor: re.Pattern             # case-insensitive, for any text
    sexual: re.Pattern
    minor_lower: re.Pattern       # the same, case-sensitive, for lower-cased ASCII text: 4x faster
    sexual_lower: re.Pattern
    identifiers: tuple[tuple[str, re.Pattern], ...]
    full_name: re.Pattern


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    minor_words = data["minors"]["words"]
    # "a 15-year-old", "aged 9", "12yo", "a twelve-year-old", "a 6th grader": an age under 18
    under_18 = (r"(?:[1-9]|1[0-7]|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
                r"fourteen|fifteen|sixteen|seventeen)")
    age = (rf"\b{under_18}[- ]?(?:years?|yrs?)[- ]?old\b|\baged? {under_18}\b"
           r"|\b(?:[1-9]|1[0-7])[- ]?(?:yo\b|y/o\b|y\.o\b\.?)"
           r"|\b(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)[- ]graders?\b")
    minor = rf"{_words_pattern(minor_words)}|{age}"
    identifiers = tuple((name, re.compile(pattern, re.IGNORECASE))
                        for name, pattern in data["private_persons"]["identifiers"].items())
    first_names = "|".join(data["private_persons"]["first_names"])
    surname = r"(?:Mc|Mac|O'|D')?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
    full_name = re.compile(
        rf"\b(?:{first_names}) {surname}\b"                    # "Emily Carter", "Sarah McAllister"
        rf"|\b(?i:{first_names}) [a-z][a-z'-]+'s\b"             # in any case before a possessive: "emily carter's"
        rf"|\b[A-Z][a-z]+, (?:{first_names})\b"                 # "Kowalski, Dave"
        rf"|\b(?:Mr|Mrs|Ms|Miss|Mx)\.? {surname}\b")           # "Mr Kowalski"
    sexual = _words_pattern(data["sexual"]["words"])
    return _Rules(minor=re.compile(minor, re.IGNORECASE), sexual=re.compile(sexual, re.IGNORECASE),
                  minor_lower=re.compile(minor), sexual_lower=re.compile(sexual),
                  identifiers=identifiers, full_name=full_name)


def _search(lower_pattern: re.Pattern, pattern: re.Pattern, text: str, lowered: str | None) -> str | None:
    """The first match, in the text's own letters. On ASCII text, matching the lower-cased text
    is exactly IGNORECASE; beyond ASCII, case rules are Unicode's ("ſ" is "s"), so the
    case-insensitive pattern reads the text itself."""
    if lowered is not None:
        found = lower_pattern.search(lowered)
        return text[found.start():found.end()] if found else None
    found = pattern.search(text)
    return found.group(0) if found else None


def check_text(text: str, category: str | None = None) -> GuardHit | None:
    """The first rule the text breaks, or None. Look-alike letters, hidden characters and
    emoji are read as what they show (`plain`)."""
    text = plain(text).translate(_APOSTROPHES)
    rules = _rules()
    lowered = text.lower() if text.isascii() else None
    minor = _search(rules.minor_lower, rules.minor, text, lowered)
    if minor:
        sexual = _search(rules.sexual_lower, rules.sexual, text, lowered)
        if sexual or category == "Erotic":
            return GuardHit(rule="sexual_minors", matched=f"{minor} + {sexual or 'Erotic category'}")
    for name, pattern in rules.identifiers:
        found = pattern.search(text)
        if found:
            return GuardHit(rule=f"private_person:{name}", matched=found.group(0))
    found = rules.full_name.search(text)
    if found:
        return GuardHit(rule="private_person:full_name", matched=found.group(0))
    return None


def check_texts(texts: list[str], category: str | None = None) -> GuardHit | None:
    for text in texts:
        hit = check_text(text, category)
        if hit:
            return hit
    return None
