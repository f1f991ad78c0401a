"""Re-checking a query a human wrote, like any candidate: the pipeline's leak detector and harm check.

One definition of "the detector's score of a pair's text" serves the review app,
the release (which stores it) and `verify` (which recomputes it): `leak_input`
builds the detector's input from what a released row carries, naming the element
with the terms its run's leak filter named it by (`pipeline/elements/terms.py`: its
seed's synonyms and broader terms, for an element outside the shipped library too).
An `EditScorer` given the runs folder reads them from the item's run; a pair its run
keeps no record of is scored with the shipped library's terms, and the check says so.
An edit the detector marks not English (`LeakScore.english`) is flagged as outside its scope,
whatever its score, so it counts only with an override, like a failing one.
It is also judged by its run's own bars (`run_limits.py`): the stricter of the run's leak filter
threshold and the detector's, and the run's harm check intent similarity; the threshold used is
kept with the decision.

An edit is also read by the guardrails' hard block, with the pair's other texts as the row
that would ship: a blocked edit is refused before it is scored, and no override reason can
pass it (`edit_refusal`, which the app and the Label Studio import call first). An override
reason ships too (the row's `override_reason`), so it is read the same way, beside the edit.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.elements.terms import RunElements, Terms, library_terms
from pipeline.guardrails import SHIPPED_TEXT_COLUMNS, GuardHit, check_texts, kept_whole, shipped_texts
from pipeline.plain_text import has_words
from pipeline.review.run_limits import RunLimits, RunLimitsByRun
from pipeline.stages.harm_check import harm_cues

HARM_KEEP, HARM_DROP = "keep", "drop"
# The detector reads English only (docs/detector.md): a low score of other text is no evidence it is leak-free.
NOT_ENGLISH_PROBLEM = ("not English: outside the leak detector's scope (it reads English only), "
                       "so its leak score cannot clear it")


def leak_input(query: str, image_description: str, category: str, element: str,
               terms: Sequence[str] | None = None):
    """The detector's input for a pair's text; without `terms` (a row that stores none), the element
    is named by the shipped library's terms for it, or its name alone."""
    from pipeline.detect.detector import LeakInput
    return LeakInput(query=query, image_description=image_description, category=category,
                     element_terms=tuple(terms) if terms else library_terms(category, element).terms)


# The detector's encoder truncates long text, so a leak padded with filler can score clean:
# an edit may be at most this many times the pipeline's query, or MIN_EDIT_LIMIT characters.
EDIT_LENGTH_FACTOR = 4
MIN_EDIT_LIMIT = 600


def edit_limit(item) -> int:
    """The most characters an edit of `item`'s query may have."""
    return max(EDIT_LENGTH_FACTOR * len(item.instruction), MIN_EDIT_LIMIT)


def edit_too_long(item, query: str) -> str | None:
    """Why `query` is refused as an edit of `item`'s query for its length, or None when it fits."""
    limit = edit_limit(item)
    if len(query) <= limit:
        return None
    return (f"the edit is {len(query)} characters long; at most {limit} are allowed here "
            f"(longer text can hide a leak from the detector): shorten it")


# beside the instruction and the override reason: every other text a release reads (`guardrails.shipped_texts`)
PAIR_TEXTS = tuple(column for column in SHIPPED_TEXT_COLUMNS if column not in ("instruction", "override_reason"))


def shipped_row(item, query: str, override_reason: str | None = None) -> dict:
    """The text columns of `item`'s row as it would ship with `query` as its instruction (a review item
    carries them all; an item with fewer is read with those it has)."""
    return {"instruction": query, **{column: getattr(item, column, None) for column in PAIR_TEXTS},
            "override_reason": override_reason}


def edit_blocked(item, query: str, override_reason: str | None = None) -> GuardHit | None:
    """The hard block's hit on `item`'s row shipping `query` as its instruction (and `override_reason`
    as its override reason), or None."""
    return check_texts(shipped_texts(shipped_row(item, query, override_reason)), item.category)


def shown_edit(item, query: str) -> str:
    """`query` as a lead reads it (`review status`, `review adjudicate`): the text, or `(withheld:
    guardrail <rule>)` where the hard block stops `item`'s row shipping it, as `edit_blocked` reads it
    (a store written before edits were read at entry can hold such an edit)."""
    beside = tuple(shipped_texts(shipped_row(item, "")))
    return kept_whole(query, beside, getattr(item, "category", None))


def blocked_reason(hit: GuardHit) -> str:
    return f"blocked by the guardrail ({hit.rule}: {hit.matched!r}); no override can ship it"


def blocked_override_reason(hit: GuardHit) -> str:
    return (f"the override reason is blocked by the guardrail ({hit.rule}: {hit.matched!r}); it ships with "
            "the pair: write the reason without it")


def edit_refusal(item, query: str, override_reason: str | None = None) -> str | None:
    """Why `query` is refused outright as an edit of `item`'s query (too long, or blocked by the
    guardrail), or why `override_reason` is (blocked, read beside the edit), or None when the edit
    may be checked and, if flagged, overridden."""
    if too_long := edit_too_long(item, query):
        return too_long
    if not has_words(query):
        return "the edit has no words: write the query the pair should ship"
    if hit := edit_blocked(item, query):
        return blocked_reason(hit)
    # the edit alone passes: a hit now is the reason's, alone or beside the edit ("teenage" + "lingerie")
    hit = edit_blocked(item, query, override_reason) if override_reason else None
    return blocked_override_reason(hit) if hit else None


@dataclass(frozen=True)
class EditCheck:
    """The leak filter's and the harm check's word on an edited query."""

    score: float
    threshold: float
    spans: tuple[str, ...]
    detector_version: str
    harm_verdict: str                 # "keep" or "drop"
    harm_reason: str
    intent_similarity: float
    problems: tuple[str, ...] = field(default=())
    # what the check could not do as the build did: scored without the run's own element terms
    notes: tuple[str, ...] = field(default=())

    @property
    def leaks(self) -> bool:
        return self.score >= self.threshold

    @property
    def passes(self) -> bool:
        """Counts as it is; otherwise only with an annotator's override and reason."""
        return not self.problems


def fallback_note(terms: Terms) -> str:
    return (f"the leak score names the element by {terms.fallback}, not by the terms of its run's seed "
            "(none on record)")


class EditScorer:
    """One detector per process, loaded on first use or by `warm()` at server start (it loads MiniLM).
    With `runs_dir`, an edit is scored with the element terms its run's leak filter used and judged by
    its run's limits; without, with the shipped library's terms (and each check says so) and the defaults."""

    def __init__(self, detector=None, runs_dir: Path | None = None):
        self._detector = detector
        self._lock = threading.Lock()
        self.elements = RunElements.under(runs_dir) if runs_dir is not None else None
        self.run_limits = RunLimitsByRun.under(runs_dir) if runs_dir is not None else None

    def detector(self):
        with self._lock:
            if self._detector is None:
                from pipeline.detect.detector import LeakDetector
                self._detector = LeakDetector()
            return self._detector

    def warm(self) -> None:
        """Load the detector and its embedder and score one pair, so the first edit does not wait."""
        self.detector().score([leak_input("what is shown here?", "a table", "Violent", "knife")])
        self._embed(["what is shown here?"])

    def _embed(self, texts: list[str]) -> np.ndarray:
        from pipeline.backends.minilm import default_embedder
        return default_embedder().embed(texts)

    def terms(self, item) -> Terms:
        """The terms `item`'s element is named by: its run's, else the shipped library's (a fallback)."""
        if self.elements is None:
            return library_terms(item.category, item.element)
        return self.elements.terms(item.run_id, item.seed_id, item.category, item.element)

    def terms_note(self, item) -> str | None:
        """What an edit of `item` is scored without, said before the annotator edits; None when its
        run's own element terms are on record."""
        terms = self.terms(item)
        return fallback_note(terms) if terms.fallback else None

    def limits(self, item) -> RunLimits:
        return self.run_limits.of(item.run_id) if self.run_limits is not None else RunLimits()

    def check(self, item, query: str) -> EditCheck:
        """Score `query` as `item`'s text and run the harm check's text rules on it, by its run's limits."""
        detector = self.detector()
        terms, limits = self.terms(item), self.limits(item)
        threshold = limits.threshold(detector.threshold)
        result = detector.score([leak_input(query, item.image_description, item.category, item.element,
                                            terms.terms)])[0]
        original, edited = self._embed([item.original_query, query])
        similarity = float(np.dot(original, edited))
        harm = []
        if harm_cues(result.signals) > 0:
            harm.append("the query alone still reads as harmful")
        if similarity < limits.min_intent_similarity:
            harm.append(f"intent drifted (similarity {similarity:.3f} < {limits.min_intent_similarity:.3f})")
        problems = list(harm)
        if result.score >= threshold:
            problems.insert(0, f"leaks: score {result.score:.3f} >= threshold {threshold:.3f}")
        if not getattr(result, "english", True):  # a score without the field claims no scope
            problems.insert(0, NOT_ENGLISH_PROBLEM)
        return EditCheck(score=result.score, threshold=threshold, spans=tuple(result.spans),
                         detector_version=getattr(detector, "version", ""),
                         harm_verdict=HARM_DROP if harm else HARM_KEEP,
                         harm_reason="; ".join(harm) or "text benign, intent kept",
                         intent_similarity=similarity, problems=tuple(problems),
                         notes=(fallback_note(terms),) if terms.fallback else ())

    def __call__(self, item, query: str) -> float:
        return self.check(item, query).score
