"""The filter base: a filter judges one pair at a time; the base does the bookkeeping.

A filter implements `judge(pair, evidence)`, which returns a `Judgement` (keep or drop,
a stable reason code from `pipeline.contracts.ReasonCode`, the prose beside it, the
scores). Evidence that needs a model is gathered once per batch in `gather` (one
embedding call, one LLM batch); an `ItemError` there becomes the pair's failure.
The base writes one `Decision` per judged pair, kept or dropped, moves kept pairs on
with the reason code in `pair.kept_by`, and leaves the dropped ones behind. The
summary and the audit report count decisions per stage and reason code.

`gather` returns an `ItemError` for a pair it cannot handle rather than raising: an
exception stops the whole build (exit 1, a bug to fix), where an `ItemError` fails only
that pair. A stage object is made once per process and run (`pipeline.factory`) and
runs up to `runner.max_workers` batches at once, in threads: it holds no per-batch
state (everything a batch needs comes in with the batch and goes out with it).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any

from pipeline.batch import Batch
from pipeline.contracts import ItemError, Provenance
from pipeline.records import CandidatePair, Decision, Verdict
from pipeline.stages.base import Stage, failure_from


@dataclass(frozen=True)
class Judgement:
    keep: bool
    code: str                 # a ReasonCode value
    reason: str               # the same in prose, with the numbers
    scores: dict[str, float] = field(default_factory=dict)
    score: float | None = None
    threshold: float | None = None
    spans: tuple[str, ...] = ()
    attempt: int = 1
    made_by: Provenance | None = None  # when the model can differ per item (an LLM's fallback)
    element_terms: tuple[str, ...] = ()  # the element terms the judge was given
    text_by: Provenance | None = None  # who wrote the judged text, when not the pair's rewriter


class FilterStage(Stage):
    backend: str = ""
    model: str = ""
    prompt_hash: str = ""
    detector_version: str = ""

    def gather(self, pairs: list[CandidatePair], batch: Batch) -> list[Any]:
        """One piece of evidence (or an ItemError) per pair, computed for the whole batch."""
        return [None] * len(pairs)

    @abstractmethod
    def judge(self, pair: CandidatePair, evidence: Any) -> Judgement: ...

    def kept(self, pair: CandidatePair, evidence: Any) -> CandidatePair:
        """The pair as it moves on when kept (a filter whose evidence later stages read puts it on)."""
        return pair

    def evidence(self, batch: Batch) -> list[Any]:
        """`gather`'s evidence, one per pair: a pair without one would leave the stage with no record."""
        evidence = list(self.gather(batch.pairs, batch))
        if len(evidence) != len(batch.pairs):
            raise ValueError(f"{type(self).__name__}.gather gave {len(evidence)} pieces of evidence for "
                             f"{len(batch.pairs)} pairs: one per pair, in order (an ItemError for a pair it "
                             "could not score)")
        return evidence

    def run(self, batch: Batch) -> Batch:
        if not batch.pairs:
            return batch
        kept, decisions, failures = [], [], list(batch.failures)
        for pair, evidence in zip(batch.pairs, self.evidence(batch), strict=True):
            if isinstance(evidence, ItemError):
                failures.append(failure_from(evidence, item_id=pair.id, seed_id=pair.seed_id, stage=self.name,
                                             category=pair.category))
                continue
            judgement = self.judge(pair, evidence)
            decisions.append(self.decision(pair, judgement))
            if judgement.keep:
                moved_on = self.kept(pair, evidence)
                kept.append(moved_on.model_copy(update={"kept_by": {**pair.kept_by, self.name: judgement.code}}))
        return batch.model_copy(update={"pairs": kept, "decisions": batch.decisions + decisions,
                                        "failures": failures})

    def decision(self, pair: CandidatePair, judgement: Judgement, stage: str | None = None) -> Decision:
        made_by = judgement.made_by or Provenance(backend=self.backend, model=self.model,
                                                  prompt_hash=self.prompt_hash)
        text_by = judgement.text_by or pair.rewritten_by or Provenance(backend="", model="", prompt_hash="")
        return Decision(
            item_id=pair.id, seed_id=pair.seed_id, stage=stage or self.name, text=pair.final_query,
            image_description=pair.image_description, element_terms=judgement.element_terms,
            attempt=judgement.attempt, scores=judgement.scores, score=judgement.score,
            threshold=judgement.threshold, verdict=Verdict.keep if judgement.keep else Verdict.drop,
            code=judgement.code, reason=judgement.reason, spans=judgement.spans,
            backend=made_by.backend, model=made_by.model, prompt_hash=made_by.prompt_hash,
            detector_version=self.detector_version,
            text_backend=text_by.backend, text_model=text_by.model, text_prompt_hash=text_by.prompt_hash,
        )
