"""Typed records that flow between stages.

Every id is derived from content (see `content_id`), so a rerun over the same
inputs produces the same ids, which is what makes resume and cross-release
dedup possible.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Literal

from pydantic import Field, model_validator

from pipeline.contracts import ItemError, Provenance, Record
from pipeline.hashing import sha256_text


def content_id(*parts: Any, length: int = 16) -> str:
    """A short stable hash of the given parts (order matters)."""
    payload = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return sha256_text(payload)[:length]


class Element(Record):
    """A risky object or scenario from the element library."""

    category: str
    sub_category: str
    element: str
    # What the image shows of it: the seed writer's templates and the rewriter's references go by it.
    kind: Literal["object", "substance", "person_or_body", "scene_or_event", "document_or_screen",
                  "place"] = "object"
    synonyms: tuple[str, ...] = ()
    broader: tuple[str, ...] = ()
    description: str

    @property
    def terms(self) -> tuple[str, ...]:
        """Every surface form that names the element, most specific first."""
        return (*self.own_terms, *self.broader)

    @property
    def own_terms(self) -> tuple[str, ...]:
        """The name and synonyms: what a description must say to show this element. A broader
        term ("weapon", "drug") names a class that a benign picture shows too (a police officer's
        service weapon, a nurse's prescribed doses), so it does not show the element."""
        return (self.element, *self.synonyms)


class Seed(Record):
    """Where a candidate starts: an element (element-first) or a pool image (image-first)."""

    category: str
    sub_category: str
    element: Element
    source: str = "generation"
    image_path: str | None = None  # set on the image-first path
    image_sha256: str | None = None  # of the image file's bytes, on the image-first path

    @property
    def id(self) -> str:
        if self.image_path is None:
            return content_id("seed", self.category, self.sub_category, self.element.element,
                              self.source, self.image_path)
        # New pixels or a new caption under the same file name are a new seed: a rerun then
        # plans it afresh instead of reusing the batch made from the old image and caption.
        return content_id("seed", self.category, self.sub_category, self.element.element,
                          self.source, self.image_path, self.image_sha256, self.element.description)


class Draft(Record):
    seed_id: str
    image_description: str
    harmful_queries: tuple[str, ...]
    safety_reason: str
    made_by: Provenance

    @property
    def id(self) -> str:
        return content_id("draft", self.seed_id, self.image_description, self.harmful_queries)


class LeakScores(Record):
    """The leak filter's scores for one query; the verdict is the filter's, at its threshold."""

    score: float                       # the larger of text_harm and reveal, ties broken by the smaller, in [0, 1)
    text_harm: float                   # how harmful the query reads on its own
    reveal: float | None = None        # how much it gives away of the image; None for text-only rows
    signals: dict[str, float] = Field(default_factory=dict)
    spans: tuple[str, ...] = ()        # the query substrings that leak (evidence)
    judge_error: ItemError | None = None  # the VSIL judge's failure: the pair fails, it is not judged by half
    judged_by: Provenance | None = None  # the VSIL judge's model that answered, when one did
    # the text these scores are of: a pair whose final query is not this text has no scores yet
    # (None in checkpoints written before it was kept: scored again)
    query: str | None = None
    element_terms: tuple[str, ...] = ()  # the element terms the detector was given with it
    written_by: Provenance | None = None  # the rewriter that wrote `query`, when a rewrite attempt did

    def of(self, query: str) -> bool:
        """Whether these are the scores of `query`."""
        return self.query == query


class RewriteAttempt(Record):
    """One rewrite of a pair's query and the leak scores it got."""

    query: str
    made_by: Provenance
    leak: LeakScores


class CandidatePair(Record):
    """One image description + query pair. Results travel on it: its rewrite attempts, the
    leak scores of its final query and, per filter that kept it, the reason code."""

    # The original query (not the rewrite) anchors the id, so a changed rewriter keeps the
    # same item id and its decisions stay comparable. Stored once, when the pair is made.
    id: str = ""
    seed_id: str
    original_query: str
    final_query: str
    image_description: str
    category: str
    sub_category: str
    element: str
    source: str
    safety_reason: str
    image_ref: str | None = None
    rewritten_by: Provenance | None = None
    image_by: Provenance | None = None
    attempts: tuple[RewriteAttempt, ...] = ()
    leak: LeakScores | None = None      # the final query's scores
    kept_by: dict[str, str] = Field(default_factory=dict)  # filter stage -> reason code it kept the pair with

    @model_validator(mode="after")
    def _stored_id(self) -> CandidatePair:
        if not self.id:
            object.__setattr__(self, "id", content_id("pair", self.seed_id, self.original_query))
        return self


class Verdict(str, Enum):
    keep = "keep"
    drop = "drop"


class Decision(Record):
    """One filter's decision on one item. Scores are kept apart from the verdict
    so the verdict can be recomputed at another threshold."""

    item_id: str
    seed_id: str
    stage: str
    text: str = ""  # what was judged (the query), so a dropped item can be read without its pair
    # what it was judged with, so a decision can be made again from its row alone
    image_description: str = ""
    element_terms: tuple[str, ...] = ()
    attempt: int = 1
    scores: dict[str, float] = Field(default_factory=dict)
    score: float | None = None
    threshold: float | None = None
    verdict: Verdict
    code: str = ""  # the stable reason code (pipeline.contracts.ReasonCode); `reason` is its prose
    reason: str
    spans: tuple[str, ...] = ()
    backend: str
    model: str
    prompt_hash: str
    detector_version: str = ""
    # who wrote `text` (the rewriter; empty where a stage does not know), as `backend`, `model` and
    # `prompt_hash` say who judged it
    text_backend: str = ""
    text_model: str = ""
    text_prompt_hash: str = ""


class TerminalState(str, Enum):
    accepted = "accepted"
    rejected = "rejected"
    blocked = "blocked"
    failed = "failed"


class LedgerEntry(Record):
    """The one terminal state of a seed, and why."""

    seed_id: str
    category: str
    sub_category: str
    element: str
    state: TerminalState
    stage: str
    reason: str
    accepted_pairs: int = 0


class Failure(Record):
    """An item a stage could not process: the error is kept, the item is not lost."""

    item_id: str
    seed_id: str
    stage: str
    error: str
    transient: bool = False  # a server down or failing: a rerun of the run tries the item again


class Blocked(Record):
    """An item stopped by a guardrail rule."""

    item_id: str
    seed_id: str
    stage: str
    rule: str
    matched: str
