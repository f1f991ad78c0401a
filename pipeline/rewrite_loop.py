"""Rewrite -> detect -> feed the leaked spans back -> rewrite again, up to k attempts.

An attempt is clean when the detector finds no leak and no risky word or harmful
act of the lexicon (the harm check's "text alone is benign" rule).

Shared by the build's rewrite stage and `leakless rewrite FILE`. Each attempt
starts from the original query with every span flagged so far, so a
deterministic rewriter still changes its answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.backends.base import ItemError, Rewriter, RewriteRequest
from pipeline.detect.detector import LeakInput, LeakScore
from pipeline.guardrails import GuardHit, check_text
from pipeline.records import Provenance
from pipeline.stages.harm_check import text_harm
from pipeline.stages.leak_filter import LeakFilter


@dataclass(frozen=True)
class RewriteItem:
    item_id: str
    query: str
    image_description: str
    category: str | None = None
    element_terms: tuple[str, ...] = ()
    element_kind: str = ""


@dataclass
class RewriteOutcome:
    item: RewriteItem
    attempts: list[tuple[str, LeakScore, Provenance]] = field(default_factory=list)  # (query, score, who)
    error: ItemError | None = None
    blocked: GuardHit | None = None

    @property
    def final(self) -> tuple[str, LeakScore, Provenance] | None:
        return self.attempts[-1] if self.attempts else None


def rewrite_until_clean(items: list[RewriteItem], rewriter: Rewriter, leak_filter: LeakFilter,
                        max_attempts: int) -> list[RewriteOutcome]:
    outcomes = {item.item_id: RewriteOutcome(item) for item in items}
    feedback: dict[str, tuple[str, ...]] = {}
    pending = list(items)
    for _ in range(max_attempts):
        if not pending:
            break
        requests = [RewriteRequest(item_id=i.item_id, query=i.query, image_description=i.image_description,
                                   category=i.category or "", element_terms=i.element_terms,
                                   feedback_spans=feedback.get(i.item_id, ()), element_kind=i.element_kind)
                    for i in pending]
        rewritten: list[tuple[RewriteItem, str, Provenance]] = []
        for item, result in zip(pending, rewriter.rewrite_with_provenance(requests)):
            outcome = outcomes[item.item_id]
            if isinstance(result, ItemError):
                outcome.error = result
            elif hit := check_text(result[0], item.category):
                outcome.blocked = hit
            else:
                rewritten.append((item, *result))
        scores = leak_filter.score([LeakInput(query=text, image_description=item.image_description,
                                              category=item.category, element_terms=item.element_terms)
                                    for item, text, _ in rewritten])
        pending = []
        for (item, text, made_by), score in zip(rewritten, scores):
            outcomes[item.item_id].attempts.append((text, score, made_by))
            # Below the leak threshold a risky word can still be left; the harm check would
            # drop the pair for it, so strip it now while attempts remain.
            if leak_filter.leaks(score) or text_harm(score.signals) > 0:
                feedback[item.item_id] = tuple(dict.fromkeys(feedback.get(item.item_id, ()) + score.spans))
                pending.append(item)
    return [outcomes[item.item_id] for item in items]
