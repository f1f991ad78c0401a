"""Guesses, without a part-of-speech tagger, at the part a word plays where it stands: a verb between its
subject and its object, a noun modifying the next one, the verb of a relative "that". The rules rewriter
(`pipeline.backends.offline_text`) asks them before it makes a word a reference to the image, since a verb or a
modifier made one reads "where this and walks" or "home these".

The rewriter marks what it has replaced with private-use characters; a marker counts as a noun here.
"""

from __future__ import annotations

import re

from pipeline.backends.references import is_plural
from pipeline.lexicon import words

REF = "\ue000"  # stands for "the thing in the image" while the rules run
SALIENT_FIRST = "\ue100"  # each salient noun gets a marker of its own, from here on
MARKER = f"[{REF}{SALIENT_FIRST}-\ue1ff]"
DETERMINER = r"(?:a|an|the|this|that|these|those|some|my|your|his|their|our|its)"


def modifies_next_word(text: str, end: int, is_described_noun) -> bool:
    """Whether the noun ending at `end` modifies a noun after it ("prison" in "prison wall"): that
    noun is a marker already or a word of the description. Any other next word may be its verb
    ("the knife go through"), a particle or an adjective ("the ATM open"); without a tagger a noun
    before one is taken as the head, since dropping it would leave "the go through"."""
    after = re.match(rf"\s+({MARKER}|[\w'-]+)", text[end:])
    return bool(after) and (bool(re.fullmatch(MARKER, after.group(1))) or is_described_noun(after.group(1)))


def is_relative_that(word: str, next_word: str) -> bool:
    """"that" before a verb's -s ("a scraper that pulls users' numbers", "a parlour that offers sexual services")
    opens a clause; as a determiner it would take a singular noun ("that gun")."""
    return word.lower() == "that" and is_plural(next_word)


def follows_relative_that(match: re.Match) -> bool:
    """Whether the word is the verb of a relative "that" ("a parlour that offers", the description "offering")."""
    before = LAST_WORD.search(match.string, 0, match.start())
    return bool(before) and is_relative_that(before.group(1), match.group())


# The word right before a position, and the -ing/-ed modifiers right after a quantifier ("many sleeping").
LAST_WORD = re.compile(r"(?<![\w'-])([\w'-]+)\s+$")
_QUANTIFIED_MODIFIERS = re.compile(r"(?<![\w'-])(?:many|few|several|more)\s+((?:[\w'-]{3,}(?:ing|ed)\s+){1,2})$",
                                   re.IGNORECASE)


def quantified_modifiers_start(text: str, start: int) -> int:
    """Where the -ing/-ed words between a quantifier and the term begin ("How many sleeping pills"): after
    "many" they can only modify the noun, while elsewhere "-ing" is as often the verb ("selling pills")."""
    found = _QUANTIFIED_MODIFIERS.search(text, 0, start)
    return found.start(1) if found else start


_BARE_AFTER_PREPOSITION = re.compile(r"\b(?:through|past|into|in|at|on|from|with|via|across)\s+$", re.IGNORECASE)


def compound_after_preposition(match: re.Match, is_content_word) -> bool:
    """Whether a bare singular noun after a preposition modifies the content word after it ("through
    airport security"): a head noun there would have a determiner or be plural ("into concerts tonight")."""
    after = re.match(r"\s+([\w'-]+)", match.string[match.end():])
    return bool(after and _BARE_AFTER_PREPOSITION.search(match.string, 0, match.start())
                and not is_plural(match.group()) and is_content_word(after.group(1))
                and not looks_verbal(after.group(1)) and not after.group(1).lower().endswith("ly"))


# A base form between a subject or "to" and its object ("to fill this", "do I spray it") is the
# act, even when a description word shares its stem ("filled", "pepper spray").
BEFORE_VERB = re.compile(r"\b(?:to|I|we|you|they)\s+$", re.IGNORECASE)
_OBJECT_AFTER = re.compile(rf"\s+(?:(?:{DETERMINER}|it|them|him|her)\b|{MARKER})", re.IGNORECASE)


def is_base_verb(match: re.Match) -> bool:
    return bool(BEFORE_VERB.search(match.string, 0, match.start())
                and _OBJECT_AFTER.match(match.string, match.end()))


# A subject: a pronoun, a relative "who" ("people who smoke crack"), a noun with its determiner ("the hero").
SUBJECT_BEFORE = re.compile(rf"(?:\b{DETERMINER}\s+[\w'-]+|\b(?:I|we|you|they|he|she|someone|somebody|who))\s+$",
                             re.IGNORECASE)


# After a noun "that" opens a clause ("a massage parlour that offers") and "this" a time ("a gun shop this week").
_NOT_AN_OBJECT = re.compile(r"\s+(?:that|this)\b", re.IGNORECASE)


def reads_as_verb(text: str, start: int, end: int) -> bool:
    """Whether the one word at text[start:end] sits between a subject and its object ("the hero tucks a
    loaded pistol", "they sell it"): the detector flags such a word for its stem ("tucked" in the description),
    and as a reference it takes the subject with it ("where this and walks")."""
    return (len(words(text[start:end])) == 1 and bool(SUBJECT_BEFORE.search(text, 0, start))
            and bool(_OBJECT_AFTER.match(text, end)) and not _NOT_AN_OBJECT.match(text, end))


def looks_verbal(word: str) -> bool:
    # Without a part-of-speech tagger, "-ing"/"-ed" forms ("holding", "crowded")
    # are taken as verbs or adjectives, which say how, not what.
    return len(word) > 5 and word.lower().endswith(("ing", "ed"))
