"""The detector's raw signals, computed for a whole batch at once.

Every signal is a number in [0, 1] (cosines may dip below 0); the two scores built
from them (`text_harm`, `reveal`) live in `detector.py`. Signals are kept apart
from the verdict so a later run can re-threshold without recomputing them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pipeline.backends.base import Embedder
from pipeline.detect.text_harm import CUE_SIGNALS, probe_features
from pipeline.detect.lexicon import WORD, Hit, Lexicon, StemmedText, compile_terms
from pipeline.detect.library_terms import shared_terms, terms_in
from pipeline.detect.spelling import toward_shown
from pipeline.plain_text import plain

SIGNALS = (
    "shared_risk",           # a risky concept the description shows is named in the query (synonyms count)
    "element_match",         # one of the given element terms appears in the query
    "library_match",         # the query names a risky thing of the element library that the description names too
    "query_risk",            # the query names a risky object, whatever the image shows
    "harm_act",              # the query states a harmful act or intent
    "evidence",              # all the query's risky hits together: 1 - prod(1 - weight) over distinct concepts
    "protective",            # the query is framed as protection or information ("signs of", "safely")
    "prototype_similarity",  # MiniLM cosine between the query and the nearest stated harm
    "word_overlap",          # share of the query's content words that the description also uses
)

_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
# Function words and the stock words of any question about an image; they say nothing about risk.
_STOP = frozenset(
    "a an the this that these those it its is are was were be been being do does did doing i me my we our you your "
    "he him his she her they them their what which who whom how why when where can could should would will shall "
    "may might must to of in on at by for with from into onto about as and or but if so than then there here "
    "some any all each more most other such no not only own same too very just like one get make use way best "
    "good tip idea method techniqu effect help someon peopl person thing someth anyon everyon up out over "
    "image pictur photo shown show scene set setup situat look keep".split()
)


@dataclass(frozen=True)
class Texts:
    """One pair's texts, stemmed once and reused by every signal."""

    query: StemmedText
    description: tuple[StemmedText, ...]   # one per sentence
    element_terms: tuple[str, ...]
    query_as_shown: StemmedText   # what `reveal` reads: misspelt shown words as the words (`spelling.py`)

    @classmethod
    def of(cls, query: str, description: str, element_terms: tuple[str, ...] = ()) -> Texts:
        """Both texts as `plain` reads them, for fitting and scoring alike."""
        query, description = plain(query), plain(description)
        sentences = [s for s in _SENTENCE.split(description.strip()) if s] or [""]
        stemmed = StemmedText.of(query)
        shown_words = frozenset(WORD.findall(" ".join([description, *element_terms]).lower()))
        return cls(stemmed, tuple(StemmedText.of(s) for s in sentences), element_terms,
                   toward_shown(stemmed, shown_words))


@dataclass(frozen=True)
class DescriptionRisk:
    shown: set[str]           # risky concepts the description shows, with broader ones
    stems: set[str]
    library_terms: frozenset[str]   # element-library terms it names (stem phrases)


@dataclass(frozen=True)
class Extraction:
    matrix: np.ndarray               # (pairs, len(SIGNALS))
    spans: list[tuple[str, ...]]     # each pair's leaking spans
    query_features: np.ndarray       # what the text-harm probe reads (`text_harm.probe_features`)


@dataclass
class LexicalEvidence:
    values: dict[str, float]  # prototype_similarity is added once the batch's queries are embedded
    spans: tuple[str, ...]


class SignalExtractor:
    def __init__(self, lexicon: Lexicon, embedder: Embedder):
        self.lexicon = lexicon
        self.embedder = embedder
        prototypes = [text for texts in lexicon.prototypes.values() for text in texts]
        self._prototype_vectors = embedder.embed(prototypes)

    def extract(self, batch: list[Texts]) -> Extraction:
        descriptions: dict[tuple[StemmedText, ...], DescriptionRisk] = {}
        for texts in batch:  # a description often serves several queries
            if texts.description not in descriptions:
                descriptions[texts.description] = self._description_risk(texts.description)
        evidence = [self._lexical(texts, descriptions[texts.description]) for texts in batch]
        # Only queries are embedded: no score reads a description's vector, and embedding every
        # description cost as much MiniLM time as the queries did.
        queries = [canonical_query(texts.query.text) for texts in batch]
        distinct = list(dict.fromkeys(queries))
        vectors, peaks = self.embedder.embed_with_peaks(distinct)
        row = {text: i for i, text in enumerate(distinct)}
        query_rows = [row[q] for q in queries]
        query_vectors = vectors[query_rows]
        prototype_similarity = (query_vectors @ self._prototype_vectors.T).max(axis=1)

        matrix = np.zeros((len(batch), len(SIGNALS)), dtype=np.float32)
        for i, e in enumerate(evidence):
            e.values["prototype_similarity"] = float(prototype_similarity[i])
            matrix[i] = [e.values[name] for name in SIGNALS]
        cues = matrix[:, [SIGNALS.index(name) for name in CUE_SIGNALS]]
        query_features = probe_features(query_vectors, peaks[query_rows], cues)
        return Extraction(matrix, [e.spans for e in evidence], query_features)

    def _lexical(self, texts: Texts, description: DescriptionRisk) -> LexicalEvidence:
        query_hits = self.lexicon.hits(texts.query)
        as_shown = query_hits if texts.query_as_shown is texts.query else self.lexicon.hits(texts.query_as_shown)
        shared = shared_objects(as_shown, description)
        element_spans = _element_spans(texts)
        library_spans = shared_terms(texts.query_as_shown, description.library_terms)
        objects = _of_kind(query_hits, "object")
        shields = _of_kind(query_hits, "shield")
        acts = _acts_of_their_own(_of_kind(query_hits, "act"), objects + shields)
        values = {
            "shared_risk": max((h.concept.weight for h in shared), default=0.0),
            "element_match": 1.0 if element_spans else 0.0,
            "library_match": 1.0 if library_spans else 0.0,
            "query_risk": max((h.concept.weight for h in objects), default=0.0),
            "harm_act": max((h.concept.weight for h in acts), default=0.0),
            "evidence": _noisy_or({h.concept.name: h.concept.weight for h in objects + acts}),
            "protective": 1.0 if shields else 0.0,
            "word_overlap": _overlap(texts.query.stems, description.stems),
        }
        spans = tuple(dict.fromkeys([*element_spans, *library_spans, *(h.span for h in shared),
                                     *(h.span for h in objects + acts)]))
        return LexicalEvidence(values, spans)

    def _description_risk(self, sentences: tuple[StemmedText, ...]) -> DescriptionRisk:
        return description_risk(self.lexicon, sentences)


def description_risk(lexicon: Lexicon, sentences: tuple[StemmedText, ...]) -> DescriptionRisk:
    return DescriptionRisk(
        shown=set().union(*(lexicon.expand(lexicon.hits(s)) for s in sentences)),
        stems=set().union(*(s.stems for s in sentences)),
        library_terms=frozenset().union(*(terms_in(s) for s in sentences)),
    )


def shared_objects(query_hits: list[Hit], description: DescriptionRisk) -> list[Hit]:
    """The query's risky objects whose concept (or a broader one) the description shows."""
    return [hit for hit in query_hits if hit.concept.kind == "object"
            and ({hit.concept.name, *hit.concept.broader} & description.shown)]


def shown_risk_spans(lexicon: Lexicon, texts: Texts) -> tuple[str, ...]:
    """The query's words that `reveal` reads as naming a risky thing the description shows: a library
    term both name ("these pills"), or a lexicon object whose concept it shows ("pistol")."""
    description = description_risk(lexicon, texts.description)
    shared = shared_objects(lexicon.hits(texts.query_as_shown), description)
    return tuple(dict.fromkeys([*shared_terms(texts.query_as_shown, description.library_terms),
                                *(hit.span for hit in shared)]))


_TRAILING_TAG = re.compile(r"\s*[(\[{][^()\[\]{}]{0,12}[)\]}]\s*$")
_REPEATED_MARK = re.compile(r"([!?.,])[!?.,]+")
_TERMINAL_MARKS = re.compile(r"[\s!?.]+$")
_POLITE_OPENING = re.compile(r"^\s*(?:please|kindly)\s*[,:]?\s+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def canonical_query(text: str) -> str:
    """What MiniLM reads of a query: without the marks that change nothing about its meaning
    (a trailing tag like " (v1)", marks piled up like "?!!", the closing "?", "!" or ".", a polite
    "please,", repeated spaces), so that such edits cannot flip a verdict. Lexicon spans still
    point into the `plain` text."""
    text = plain(text)
    previous = None
    while previous != text:
        previous, text = text, _TRAILING_TAG.sub("", text)
    text = _POLITE_OPENING.sub("", _REPEATED_MARK.sub(r"\1", text))
    return _SPACES.sub(" ", _TERMINAL_MARKS.sub("", text)).strip()


def _noisy_or(weights: dict[str, float]) -> float:
    return 1.0 - float(np.prod([1.0 - w for w in weights.values()]))


def _of_kind(hits: list[Hit], kind: str) -> list[Hit]:
    return [h for h in hits if h.concept.kind == kind]


def _acts_of_their_own(acts: list[Hit], wider: list[Hit]) -> list[Hit]:
    # An act inside a longer object or shield phrase belongs to that phrase: "harm" in
    # "self-harming", "stealing" in "stop thieves from stealing", "hurt" in "so no one
    # gets hurt". An act spelled exactly like an object ("overdose") still counts as both.
    return [a for a in acts if not any(a.span != w.span and a.span in w.span for w in wider)]


def _element_spans(texts: Texts) -> list[str]:
    pattern = _element_pattern(texts.element_terms)
    if pattern is None:
        return []
    query = texts.query_as_shown
    return [query.source_span(*m.span()) for m in pattern.finditer(query.line)]


@lru_cache(maxsize=4096)
def _element_pattern(terms: tuple[str, ...]) -> re.Pattern | None:
    # Many pairs share one element, so its pattern is compiled once.
    return compile_terms(terms)


def content_stem(stem: str) -> bool:
    """A stem that can carry meaning about risk: not a function word, an image word, a number or a scrap."""
    return len(stem) > 2 and not stem.isdigit() and stem not in _STOP


def _overlap(query_stems: set[str], description_stems: set[str]) -> float:
    content = query_stems - _STOP
    if not content:
        return 0.0
    return len(content & description_stems) / len(content)
