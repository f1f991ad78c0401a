"""Word-level helpers shared by the rules rewriter and the leak detectors.

Matching is done on Porter stems (nltk's PorterStemmer needs no data download),
so "pistols" finds "pistol" and "rioting" finds "riot". A term of several words
matches where its stems occur as a contiguous run in the text.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nltk.stem import PorterStemmer

from pipeline.plain_text import folded_letters
from pipeline.prompts import text_hash

LEXICON_FILE = Path(__file__).parent / "harm_words.toml"

# A word may carry inner hyphens or apostrophes ("e-mail", "someone's").
WORD = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")

_porter = PorterStemmer()


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """The Porter stem of one word, lower-cased, with a possessive 's dropped.

    Words under four letters are kept whole: Porter would turn "IED" into "i".
    """
    word = word.lower().replace("’", "'").removesuffix("'s")
    return word if len(word) < 4 else _porter.stem(word)


def words(text: str) -> list[re.Match]:
    """The word tokens of `text`, as matches so callers keep their character spans: read with
    accents dropped and look-alike letters as Latin, as the detector reads them (the same length,
    so the spans are `text`'s)."""
    return list(WORD.finditer(folded_letters(text)))


def stems(text: str) -> list[str]:
    return [stem(m.group()) for m in words(text)]


def find_term(text: str, term: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of `text` where `term` occurs, stem by stem."""
    tokens = words(text)
    starts = _occurrences(stems(term), [stem(m.group()) for m in tokens])
    size = len(stems(term))
    return [(tokens[i].start(), tokens[i + size - 1].end()) for i in starts]


def contains_term(text: str, terms: tuple[str, ...] | list[str]) -> bool:
    """Whether any of `terms` occurs in `text` (stemmed, case-insensitive)."""
    haystack = stems(text)
    return any(_occurrences(stems(term), haystack) for term in terms)


def _occurrences(needle: list[str], haystack: list[str]) -> list[int]:
    """Start indices where `needle` is a contiguous run of `haystack`; none for an empty needle."""
    size = len(needle)
    if not size:
        return []
    return [i for i in range(len(haystack) - size + 1) if haystack[i:i + size] == needle]


# A participle right before a noun modifies it ("sell stolen phones", in the rules rewriter "sell taken
# phones") unless a subject or an auxiliary before it makes it the verb ("I had stolen phones").
_PARTICIPLES_BEFORE = re.compile(r"(?<![\w'-])(?:([\w'-]+)\s+)?((?:(?:[\w'-]{3,}(?:ed|en)|made|held)\s+)+)$",
                                 re.IGNORECASE)
_MAKES_A_VERB = frozenset({"i", "we", "you", "they", "he", "she", "it", "who", "have", "has", "had", "is", "are",
                           "was", "were", "be", "been", "get", "got"})


def participles_start(text: str, start: int) -> int:
    """Where the participles that modify the noun at `start` begin ("stolen" in "sell stolen phones"): `start`
    when there are none."""
    found = _PARTICIPLES_BEFORE.search(text, 0, start)
    if not found or (found.group(1) or "").lower() in _MAKES_A_VERB:
        return start
    return found.start(2)


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity, so it can key a cache
class Lexicon:
    """The harm-word paraphrases and word lists of `harm_words.toml`."""

    common: dict[str, str]
    by_category: dict[str, dict[str, str]]
    stopwords: frozenset[str]
    generic: frozenset[str]
    predicative: dict[str, str]  # a dropped adjective -> what it reads after "is" ("a concern")
    nouns: dict[str, str]  # a key that is also a noun -> what it reads as one ("abuse" -> "handling")
    content_hash: str  # hash of the file contents: the rewriter's "prompt" version

    def harm_words(self, category: str) -> dict[str, str]:
        """Harm word -> neutral paraphrase for one category (category entries win)."""
        return {**self.common, **self.by_category.get(category, {})}

    def categories_without_table(self, categories: list[str]) -> list[str]:
        """The categories with no `[harm."<name>"]` table, by exact name: the rules rewriter neutralises
        only the common harm words in their queries (a renamed category loses its table)."""
        return [category for category in categories if category not in self.by_category]

    def is_content_word(self, word: str) -> bool:
        """A word that could name something an image shows (not a stop or generic word)."""
        lowered = word.lower()
        return (len(lowered) > 2 and not lowered.isdigit()
                and lowered not in self.stopwords and lowered not in self.generic)


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_FILE) -> Lexicon:
    source = Path(path).read_text(encoding="utf-8")
    data = tomllib.loads(source)
    harm = data["harm"]
    return Lexicon(
        common=harm["common"],
        by_category={name: table for name, table in harm.items() if name != "common"},
        stopwords=frozenset(data["words"]["stop"]),
        generic=frozenset(data["words"]["generic"]),
        predicative=data["predicative"],
        nouns=data["nouns"],
        content_hash=text_hash(source),
    )
