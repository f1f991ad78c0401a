"""The bottom layer: the words every other layer shares, importing nothing from the project.

- `ItemError`: what a backend returns in an item's slot when it cannot handle that item;
- `Provenance`: which backend, model and prompt made a record;
- `StageName`: the stage names the decision log, ledger, report, review and release use;
- `ReasonCode`: why a filter kept or dropped an item, stable enough to group by;
- the role interfaces a stage calls and a backend implements (image checker, pair
  checker, harm judge, VSIL judge), with the small records they exchange.

The layers above are declared in pyproject.toml (`[tool.importlinter]`) and checked by
the test suite, so an upward import fails CI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class ItemError:
    error: str
    raw: str = ""
    refused: bool = False
    transient: bool = False  # the server was unreachable or kept failing: a rerun may succeed


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(Record):
    """Which backend and prompt produced a record. Offline backends say so here."""

    backend: str
    model: str
    prompt_hash: str


class StageName(StrEnum):
    """Where an item was judged or stopped; the `stage` column of every table a run writes."""

    drafts = "drafts"
    retrieval = "retrieval"          # a pool image found for an element-first seed
    guardrail = "guardrail"
    seed = "seed"                    # a guardrail block on a seed, before the writer sees it
    draft = "draft"                  # a guardrail block on what the writer wrote
    rewrite = "rewrite"              # a rewrite attempt that was retried (or blocked)
    leak_filter = "leak_filter"
    harm_check = "harm_check"
    image_prompt = "image_prompt"    # the guardrail on an image prompt
    images = "images"
    image_check = "image_check"
    export = "export"
    final_filter = "final_filter"    # a release's pair checker


class ReasonCode(StrEnum):
    """Why a filter kept or dropped an item. The prose reason stays beside it on the decision."""

    leak_free = "leak.none"
    leak_text_harm = "leak.text_harm"    # the query alone reads as harmful
    leak_reveal = "leak.reveal"          # the query gives away what the image shows
    leak_judge = "leak.judge"            # the VSIL judge says it leaks, under the threshold
    rewrite_retry = "rewrite.retry"      # an attempt that leaked or named a risky word; retried
    harm_kept = "harm.kept"
    harm_text = "harm.text_harmful"      # the text alone still reads as harmful
    harm_image = "harm.image_benign"     # the image (description) no longer shows the risk
    harm_pair = "harm.pair_benign"       # image and text together are not harmful
    harm_intent = "harm.intent_lost"     # the rewrite lost the original intent
    image_shown = "image.shows_element"
    image_missing = "image.element_missing"
    release_kept = "release.kept"
    release_mismatch = "release.mismatch"
    release_benign = "release.benign"
    release_miscategorised = "release.miscategorised"
    release_checker_error = "release.checker_error"  # the pair checker failed on the pair: dropped
    release_leak_free = "release.leak_free"          # the shipped query passed the leak and harm checks
    release_leaks = "release.leaks"                  # the shipped query leaks
    release_not_english = "release.not_english"      # the shipped query is not English: the detector cannot clear it
    release_harm_dropped = "release.harm_dropped"    # the shipped query fails the harm check
    release_overridden = "release.overridden"        # flagged, shipped anyway with an annotator's reason
    release_no_words = "release.no_words"            # the shipped query has nothing to score ("?"): never ships
    release_image_duplicate = "release.image_duplicate"  # its image repeats a kept pair's (pHash and dHash)
    release_query_duplicate = "release.query_duplicate"  # asks a kept pair's query of the same scene
    release_benchmark_duplicate = "release.benchmark_duplicate"  # asks a --dedup-against row's query of its scene


# Guardrail blocks carry their rule as the code: "guardrail.sexual_minors", "guardrail.private_person:email".
GUARDRAIL_PREFIX = "guardrail."


@dataclass(frozen=True)
class CheckRequest:
    png: bytes
    element: str
    description: str


@dataclass(frozen=True)
class CheckResult:
    shows_element: bool
    refined_prompt: str | None = None
    explanation: str = ""
    made_by: Provenance | None = None  # a model's answer: the model that answered, not the one configured


class ImageChecker(Protocol):
    """Image + element + description -> does the image show the element, and a better prompt if not."""

    backend: str
    model: str
    prompt_hash: str = ""

    def check(self, requests: list[CheckRequest]) -> list[CheckResult | ItemError]: ...


class PairToCheck(Record):
    id: str
    seed_id: str
    query: str
    image_description: str
    category: str
    sub_category: str
    element: str


@dataclass(frozen=True)
class PairCheck:
    matched: bool
    harmful: bool
    categorised: bool
    explanation: str
    scores: dict[str, float] = field(default_factory=dict)
    score: float | None = None
    threshold: float | None = None
    made_by: Provenance | None = None  # a model's answer: the model that answered, not the one configured


class PairChecker(Protocol):
    """A release's final filtration: does image match query, is the pair harmful, is it filed right."""

    backend: str
    model: str
    prompt_hash: str

    def check(self, pairs: list[PairToCheck]) -> list[PairCheck | ItemError]: ...


@dataclass(frozen=True)
class HarmQuestion:
    original_query: str
    query: str
    image_description: str


@dataclass(frozen=True)
class HarmVerdict:
    text_harmful: bool
    image_harmful: bool
    combined_harmful: bool
    intent_kept: bool
    explanation: str
    made_by: Provenance


class HarmJudge(Protocol):
    """Original + rewritten query + image description -> is the pair still harmful, the text benign.

    The harm check names the configured backend, model and template on its stage, so a judge
    carries all three (`prompt_hash` is "" for a judge with no template)."""

    backend: str
    model: str
    prompt_hash: str

    def judge(self, questions: list[HarmQuestion]) -> list[HarmVerdict | ItemError]: ...


@dataclass(frozen=True)
class VSILQuestion:
    """One pair as the leak filter puts it to a VSIL judge."""

    query: str
    image_description: str                # "" for a text-only row
    category: str | None = None
    element_terms: tuple[str, ...] = ()   # element, synonyms, broader terms when known


@dataclass(frozen=True)
class VSILVerdict:
    leaks: bool
    leaked_spans: tuple[str, ...] = ()
    # the model that answered, when it can differ from the configured one (a server may serve
    # another model than asked); None: the leak filter credits the judge's own backend/model/prompt_hash
    made_by: Provenance | None = None


class VSILJudge(Protocol):
    """Query + image description -> does the query leak what the image shows (beside the detector).

    A judge carries `backend`, `model` and `prompt_hash` ("" with no template): the leak filter
    names them on its stage and on every decision the judge took part in, unless a verdict's
    `made_by` names the model that actually answered. One verdict (or `ItemError`) per question,
    in order."""

    backend: str
    model: str
    prompt_hash: str

    def judge(self, questions: list[VSILQuestion]) -> list[VSILVerdict | ItemError]: ...
