"""Rewrite -> detect -> feed the leaked spans back -> rewrite again, up to k attempts.

Each attempt that still leaks is recorded (stage "rewrite"); the last
attempt's verdict is the leak filter's decision (stage "leak_filter").
"""

from __future__ import annotations

from pipeline.backends.base import ItemError, Rewriter, RewriteRequest
from pipeline.batch import Batch
from pipeline.guardrails import check_text
from pipeline.records import Blocked, CandidatePair, Decision
from pipeline.stages.base import Stage, drop_blocked_seeds, failure_from
from pipeline.stages.leak_filter import LeakFilter


class RewriteStage(Stage):
    name = "rewrite"

    def __init__(self, rewriter: Rewriter, leak_filter: LeakFilter, max_attempts: int = 3):
        self.rewriter = rewriter
        self.leak_filter = leak_filter
        self.max_attempts = max_attempts

    def run(self, batch: Batch) -> Batch:
        terms = {seed.id: seed.element.terms for seed in batch.seeds}
        decisions: list[Decision] = []
        failures = list(batch.failures)
        blocked: list[Blocked] = []
        kept: list[CandidatePair] = []
        feedback: dict[str, tuple[str, ...]] = {}
        pending = list(batch.pairs)

        for attempt in range(1, self.max_attempts + 1):
            if not pending:
                break
            requests = [RewriteRequest(item_id=pair.id, query=pair.original_query,
                                       image_description=pair.image_description,
                                       category=pair.category, element_terms=terms.get(pair.seed_id, ()),
                                       feedback_spans=feedback.get(pair.id, ()))
                        for pair in pending]
            rewritten = []
            for pair, result in zip(pending, self.rewriter.rewrite(requests)):
                if isinstance(result, ItemError):
                    failures.append(failure_from(result, item_id=pair.id, seed_id=pair.seed_id,
                                                 stage=self.name))
                    continue
                hit = check_text(result, pair.category)
                if hit:
                    blocked.append(Blocked(item_id=pair.id, seed_id=pair.seed_id, stage=self.name,
                                           rule=hit.rule, matched=hit.matched))
                    continue
                rewritten.append(pair.model_copy(update={
                    "final_query": result, "rewritten_by": self.rewriter.provenance}))

            pending = []
            last = attempt == self.max_attempts
            for pair, score in zip(rewritten, self.leak_filter.score(rewritten, terms)):
                if self.leak_filter.leaks(score) and not last:
                    decisions.append(self.leak_filter.decision(
                        pair, score, stage=self.name, attempt=attempt,
                        reason=f"attempt {attempt} still leaks (score {score.score:.3f}); "
                               f"spans fed back: {', '.join(score.spans) or 'none'}"))
                    feedback[pair.id] = tuple(dict.fromkeys(feedback.get(pair.id, ()) + tuple(score.spans)))
                    pending.append(pair)
                    continue
                decision = self.leak_filter.decision(pair, score, stage=self.leak_filter.stage,
                                                     attempt=attempt)
                decisions.append(decision)
                if decision.verdict == "keep":
                    kept.append(pair)

        batch = batch.model_copy(update={"pairs": kept, "failures": failures,
                                         "decisions": batch.decisions + decisions})
        return drop_blocked_seeds(batch, blocked)
