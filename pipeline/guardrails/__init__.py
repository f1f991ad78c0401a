"""The hard block: content no run may produce, whatever the backend or config.

Two rules, checked at the seed, draft, rewrite, image-prompt, review-edit (an edit and its override
reason) and release steps, and on what a run keeps of a failed model request (`kept_start`):
- sexual content involving minors: a minor reference together with a sexual reference
  anywhere among one item's texts (its element, description, queries, safety reason: "A
  teenage girl at a photo studio" and "What lingerie would suit her?" are one item), the two
  run together in one word ("childnude"), or any minor reference in an item of a sexual category:
  one taxonomy.toml marks `sexual = true` (Erotic), or one whose name holds a word of rules.toml's
  [sexual_categories] ("Sexual Content", "NSFW"), in any case, so a renamed category keeps the rule;
- real private persons: personal identifiers (e-mail, phone, street address,
  ID numbers) or a person's full name (a known first name, a middle initial or not, and a
  surname; in any case before a possessive; "Surname, First"; or a title and a surname).

Text is read as a person sees it (`reading.py`): look-alike letters, accents, hidden and
blank characters, dashes of every kind, emoji and joined words do not hide a word; and read a
second time for the obfuscations `obfuscation.py` names (small capitals, whole look-alike words,
leetspeak, "a m i n o r"). A text blocks when either reading does.

The word lists are English. A guard must fail closed on what it cannot read, so a third rule,
`unreadable_language` (`unreadable.py`), refuses a text in another language or script unread.

Word lists cannot know every name or every way to say "minor": the README's
Guardrails section says what that leaves.

The rules are deliberately broad. A false block costs one seed; a miss costs
the benchmark its reason to exist.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.guardrails.ages import AGE as _AGE
from pipeline.guardrails.reading import guard_readings, joins_apart, underscores_apart
from pipeline.guardrails.unreadable import RULE as UNREADABLE, unreadable_match
from pipeline.taxonomy import load_taxonomy

RULES_FILE = Path(__file__).with_name("rules.toml")
# The text columns of a released row, all of which ship (`source` is a pool's own column, written by whoever made it;
# `override_reason` is an annotator's free text).
SHIPPED_TEXT_COLUMNS = ("instruction", "original_query", "image_description", "safety_reason", "element", "source",
                        "override_reason")


@dataclass(frozen=True)
class GuardHit:
    rule: str
    matched: str


def _words_pattern(words: list[str], unless: list[str] = (), unless_after: list[str] = ()) -> str:
    """Any of `words`, whole, except where a phrase of `unless` starts ("baby oil") or a word of
    `unless_after` comes just before ("comic strip"). Both are closed lists of harmless senses."""
    alternatives = "|".join(sorted((re.escape(w.lower()) for w in words), key=len, reverse=True))
    not_after = "".join(rf"(?<!\b{re.escape(word)} )" for word in unless_after)
    not_starting = rf"(?!(?:{'|'.join(unless)})\b)" if unless else ""
    return rf"\b{not_after}{not_starting}(?:{alternatives})\b"


@dataclass(frozen=True)
class _Rules:
    minor: re.Pattern             # case-insensitive, for any text
    sexual: re.Pattern
    minor_lower: re.Pattern       # the same, case-sensitive, for lower-cased ASCII text: 4x faster
    sexual_lower: re.Pattern
    run_together: re.Pattern      # a minor word and a sexual word as one word, for lower-cased text
    identifiers: tuple[tuple[str, re.Pattern], ...]
    full_name: re.Pattern
    sexual_category: re.Pattern   # a word that makes a category's name sexual ("Sexual Content"), for lower-cased text


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    minors, sexual_words = data["minors"], data["sexual"]
    minor = f"{_words_pattern(minors['words'], minors.get('unless', []))}|{_AGE}"
    identifiers = tuple((name, re.compile(pattern, re.IGNORECASE))
                        for name, pattern in data["private_persons"]["identifiers"].items())
    first_names = "|".join(data["private_persons"]["first_names"])
    # a capitalised word that is never a surname ends no name: "How Can I Sue Them For This Photo"
    not_surname = rf"(?!(?:{'|'.join(data['private_persons']['not_surnames'])})\b)"
    surname = r"(?:Mc|Mac|O'|D')?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
    full_name = re.compile(
        rf"\b(?:{first_names})\s+(?:[A-Z]\.?\s+)?{not_surname}{surname}\b"  # "Emily Carter", "Emily J. Carter"
        rf"|\b(?i:{first_names}) [a-z][a-z'-]+'s\b"             # in any case before a possessive: "emily carter's"
        rf"|\b[A-Z][a-z]+, (?:{first_names})\b"                 # "Kowalski, Dave"
        rf"|\b(?:Mr|Mrs|Ms|Miss|Mx)\.? {surname}\b")           # "Mr Kowalski"
    sexual = _words_pattern(sexual_words["words"], sexual_words.get("unless", []), sexual_words.get("unless_after", []))
    categories = data["sexual_categories"]
    return _Rules(minor=re.compile(minor, re.IGNORECASE), sexual=re.compile(sexual, re.IGNORECASE),
                  minor_lower=re.compile(minor), sexual_lower=re.compile(sexual),
                  run_together=_run_together(minors["words"], sexual_words["words"]),
                  identifiers=identifiers, full_name=full_name,
                  sexual_category=re.compile(_words_pattern(categories["words"], categories.get("unless", []))))


def _run_together(minor_words: list[str], sexual_words: list[str]) -> re.Pattern:
    """A minor word and a sexual word written as one ("childnude", "nudeteens"), either way round.
    Only the two side by side: a minor word merely inside a longer word ("person", "Essex") is not read."""
    def alternatives(words: list[str]) -> str:
        joined = {re.sub(r"[ -]", "", word.lower()) for word in words}
        return "|".join(sorted(map(re.escape, joined), key=len, reverse=True))
    minor, sexual = alternatives(minor_words), alternatives(sexual_words)
    return re.compile(f"(?:{minor})(?:{sexual})|(?:{sexual})(?:{minor})")


def _search(lower_pattern: re.Pattern, pattern: re.Pattern, text: str, lowered: str | None) -> str | None:
    """The first match, in the text's own letters. On ASCII text, matching the lower-cased text
    is exactly IGNORECASE; beyond ASCII, case rules are Unicode's ("ſ" is "s"), so the
    case-insensitive pattern reads the text itself."""
    if lowered is not None:
        found = lower_pattern.search(lowered)
        return text[found.start():found.end()] if found else None
    found = pattern.search(text)
    return found.group(0) if found else None


def _minors_hit(readings: list[str], category: str | None) -> GuardHit | None:
    """A minor reference and a sexual reference anywhere among the texts (each read as written
    and with joined words apart), or a minor reference in a sexual category (`_sexual_category`)."""
    rules = _rules()
    texts = [text for reading in readings for text in dict.fromkeys((reading, joins_apart(reading)))]
    lowered = [text.lower() if text.isascii() else None for text in texts]
    minor = next(filter(None, (_search(rules.minor_lower, rules.minor, text, low)
                               for text, low in zip(texts, lowered))), None)
    if not minor:
        return None
    sexual = next(filter(None, (_search(rules.sexual_lower, rules.sexual, text, low)
                                for text, low in zip(texts, lowered))), None)
    if sexual or _sexual_category(category):
        return GuardHit(rule="sexual_minors", matched=f"{minor} + {sexual or category.strip() + ' category'}")
    return None


def _sexual_category(category: str | None) -> bool:
    """Whether the category is sexual: marked `sexual = true` in the taxonomy, or named with a word of
    [sexual_categories], in any case. Both, so that the rule fails closed: a lab that renames Erotic
    without the flag, or a benchmark row labelled "NSFW" that no taxonomy knows, keeps it."""
    return bool(category) and (load_taxonomy().marked_sexual(category) or _names_sexual_word(category))


@lru_cache(maxsize=256)
def _names_sexual_word(category: str) -> bool:
    """The name read as the block reads a text (look-alike letters, "Sexual_Content", "SexualContent")."""
    pattern = _rules().sexual_category
    return any(pattern.search(joins_apart(reading).lower()) for reading in guard_readings(category))


# The shortest run-together pair ("kidsex") has six letters: only such runs are searched, 3x faster.
_LETTER_RUNS = re.compile(r"[a-z]{6,}")


def _run_together_hit(readings: list[str]) -> GuardHit | None:
    run_together = _rules().run_together
    for reading in readings:
        for letters in _LETTER_RUNS.findall(reading.lower()):
            if found := run_together.search(letters):
                return GuardHit(rule="sexual_minors", matched=found.group(0))
    return None


def masked(identifier: str) -> str:
    """A private person's name, address or number as a hit records it: each run of letters or digits
    keeps its first character ("Laura Whitfield" -> "L**** W********"), so the ledger, the decisions
    and the review app say what kind of thing matched without writing the person down."""
    return re.sub(r"(?<=\w)\w", "*", identifier)


def _private_person_hit(text: str) -> GuardHit | None:
    rules = _rules()
    for name, pattern in rules.identifiers:
        found = pattern.search(text)
        if found:
            return GuardHit(rule=f"private_person:{name}", matched=masked(found.group(0)))
    found = rules.full_name.search(text)
    if found:
        return GuardHit(rule="private_person:full_name", matched=masked(found.group(0)))
    return None


def check_texts(texts: Iterable[str], category: str | None = None) -> GuardHit | None:
    """The first rule one item's texts break, or None. `sexual_minors` reads them together: a
    minor word in the description and a sexual word in the query are one hit."""
    texts = _text_list(texts)
    readings = [reading for text in texts for reading in guard_readings(text)]
    # "Emily_Carter" is a name; camelCase is not read apart for names ("MarkDown" is no person)
    names = [text for reading in readings for text in dict.fromkeys((reading, underscores_apart(reading)))]
    return (_minors_hit(readings, category) or _run_together_hit(readings)
            or next(filter(None, map(_private_person_hit, names)), None) or _unreadable_hit(texts))


def _text_list(texts: Iterable[str]) -> list[str]:
    """The texts as a list, read more than once below; one string is refused, not read letter by letter
    (each letter alone breaks no rule: the block would pass it)."""
    if isinstance(texts, str):
        raise TypeError("check_texts takes a list of texts, not one string: check_text(text) checks one")
    texts = list(texts)
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"check_texts takes texts (str); got {type(text).__name__}: {text!r:.60}")
    return texts


def _unreadable_hit(texts: list[str]) -> GuardHit | None:
    """Text the English word lists cannot read: checked last, so a text they do read keeps its rule."""
    found = unreadable_match(texts)
    return GuardHit(rule=UNREADABLE, matched=found) if found else None


def name_hit(text: str) -> GuardHit | None:
    """A private person's full name in a text that is no prose (a row's id, a file name): the other
    rules would read a numeric id or a UUID's last group as a phone number."""
    readings = guard_readings(text)
    for candidate in dict.fromkeys([*readings, *map(underscores_apart, readings)]):
        if found := _rules().full_name.search(candidate):
            return GuardHit(rule="private_person:full_name", matched=masked(found.group(0)))
    return None


def check_text(text: str, category: str | None = None) -> GuardHit | None:
    """The first rule the text, on its own, breaks, or None."""
    return check_texts([text], category)


def kept_start(text: str, limit: int, beside: tuple[str, ...] = (), category: str | None = None) -> str:
    """The first `limit` characters of a model-written text a run keeps (a failed request's error or
    raw answer), or `(withheld: guardrail <rule>)` when the hard block stops it. It is read whole and
    as cut (a cut can make an address: "12 Elm Streetcar" cut to "12 Elm Street"), and with what is kept
    beside it (a minor word in one and a sexual word in the other are one hit). A note already
    withheld is not read again: the name of its rule, "sexual_minors", is not what a model wrote."""
    kept = text[:limit]
    notes = _withheld_notes()
    hit = check_texts([notes.sub("", part) for part in (*beside, text, kept)], category)
    return withheld(hit.rule) if hit else kept


def kept_whole(text: str, beside: tuple[str, ...] = (), category: str | None = None) -> str:
    """`text` whole, or `(withheld: guardrail <rule>)` when the hard block stops it read with `beside`.
    `check_texts` first: `kept_start` also reads the text as cut, twice the work when nothing is cut."""
    if not text or check_texts([*beside, text], category) is None:
        return text
    return kept_start(text, len(text), beside, category)


def withheld(rule: str) -> str:
    """What stands in a record for a text the hard block stopped."""
    return f"(withheld: guardrail {rule})"


@lru_cache(maxsize=1)
def _withheld_notes() -> re.Pattern:
    """The notes `kept_start` writes, for the rules' own names only: a model that writes
    "(withheld: guardrail child_nude)" is still read."""
    persons = ["full_name", *(name for name, _ in _rules().identifiers)]
    rules = ["sexual_minors", UNREADABLE, *(f"private_person:{name}" for name in persons)]
    return re.compile("|".join(re.escape(withheld(rule)) for rule in rules))


def shipped_texts(row: dict) -> list[str]:
    """The texts a released row ships, for one check of the row as an item."""
    return [row.get(column) or "" for column in SHIPPED_TEXT_COLUMNS]
