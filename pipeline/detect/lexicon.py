"""The risk lexicon: concept terms from `cues.toml`, matched on word stems.

Texts are reduced to a "stem line" (the project's one stemmer, `pipeline.lexicon.stem`,
shared with the rules rewriter and the harm check, joined by single spaces), and
each concept becomes one compiled regex over such lines, so "handguns",
"handgun's" and "handgun" all meet the term "handgun", and a multi-word term
with a `*` gap ("hide * from * police") spans up to four words per gap.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline.lexicon import stem

CUES_FILE = Path(__file__).with_name("cues.toml")
WORD = re.compile(r"[a-z0-9]+")  # a word as the stem line reads it, in lower case
_GAP = r"(?:\S+ ){0,4}"
@dataclass(frozen=True)
class StemmedText:
    """A text's words as stems, with each word's character span in the original."""

    text: str
    line: str                            # the stems, space-joined
    starts: tuple[int, ...]              # where each stem begins in `line`
    spans: tuple[tuple[int, int], ...]   # each word's (start, end) in `text`

    @classmethod
    def of(cls, text: str) -> StemmedText:
        matches = list(WORD.finditer(text.lower()))
        return cls(text, "", (), tuple(m.span() for m in matches)).with_stems([stem(m.group()) for m in matches])

    def with_stems(self, stems: list[str]) -> StemmedText:
        """The same words read as other stems (one per word), spans unchanged."""
        starts, offset = [], 0
        for s in stems:
            starts.append(offset)
            offset += len(s) + 1
        return StemmedText(self.text, " ".join(stems), tuple(starts), self.spans)

    @property
    def stems(self) -> set[str]:
        return set(self.line.split())

    def source_span(self, line_start: int, line_end: int) -> str:
        """The original words behind a match on the stem line."""
        first = bisect.bisect_right(self.starts, line_start) - 1
        last = bisect.bisect_right(self.starts, max(line_end - 1, line_start)) - 1
        return self.text[self.spans[first][0]:self.spans[last][1]]


def compile_terms(terms: list[str] | tuple[str, ...]) -> re.Pattern | None:
    """One regex matching any of `terms` on a stem line, whole words only."""
    alternatives = []
    for term in terms:
        words = re.findall(r"\*|[a-z0-9]+", term.lower())
        pieces = [_GAP if w == "*" else re.escape(stem(w)) + " " for w in words]
        alternatives.append("".join(pieces).strip())  # a term never ends in `*`
    alternatives = sorted({a for a in alternatives if a}, key=len, reverse=True)
    if not alternatives:
        return None
    return re.compile(r"(?<!\S)(?:" + "|".join(alternatives) + r")(?!\S)")


@dataclass(frozen=True)
class Concept:
    name: str
    kind: str                 # "object", "act" or "shield"
    weight: float
    broader: tuple[str, ...]
    pattern: re.Pattern


@dataclass(frozen=True)
class Hit:
    concept: Concept
    span: str                 # the original words that matched


class Lexicon:
    def __init__(self, path: Path = CUES_FILE):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        self.concepts = [
            Concept(c["name"], c["kind"], float(c["weight"]), tuple(c.get("broader", ())),
                    compile_terms(c["terms"]))
            for c in data["concept"]
        ]
        self.prototypes: dict[str, list[str]] = data["prototypes"]

    def hits(self, text: StemmedText) -> list[Hit]:
        found = []
        for concept in self.concepts:
            for match in concept.pattern.finditer(text.line):
                found.append(Hit(concept, text.source_span(*match.span())))
        return found

    @staticmethod
    def expand(hits: list[Hit]) -> set[str]:
        """Concept names of object hits, with their broader concepts."""
        names = set()
        for hit in hits:
            if hit.concept.kind == "object":
                names.add(hit.concept.name)
                names.update(hit.concept.broader)
        return names
