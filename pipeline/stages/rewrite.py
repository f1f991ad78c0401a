"""The rewrite stage: the rewrite loop over a batch's pairs, with every attempt recorded.

Attempts that still leak are recorded as stage "rewrite"; the last attempt's
verdict is the leak filter's decision (stage "leak_filter").
"""

from __future__ import annotations

from pipeline.backends.base import Rewriter
from pipeline.batch import Batch
from pipeline.records import Blocked
from pipeline.rewrite_loop import RewriteItem, rewrite_until_clean
from pipeline.stages.base import Stage, drop_blocked_seeds, failure_from
from pipeline.stages.harm_check import text_harm
from pipeline.stages.leak_filter import LeakFilter


class RewriteStage(Stage):
    name = "rewrite"

    def __init__(self, rewriter: Rewriter, leak_filter: LeakFilter, max_attempts: int = 3):
        self.rewriter = rewriter
        self.leak_filter = leak_filter
        self.max_attempts = max_attempts

    def run(self, batch: Batch) -> Batch:
        terms = {seed.id: seed.element.terms for seed in batch.seeds}
        kinds = {seed.id: seed.element.kind for seed in batch.seeds}
        pairs = {pair.id: pair for pair in batch.pairs}
        items = [RewriteItem(item_id=pair.id, query=pair.original_query,
                             image_description=pair.image_description, category=pair.category,
                             element_terms=terms.get(pair.seed_id, ()), element_kind=kinds.get(pair.seed_id, ""))
                 for pair in batch.pairs]
        outcomes = rewrite_until_clean(items, self.rewriter, self.leak_filter, self.max_attempts)

        decisions, failures, blocked, kept = [], list(batch.failures), [], []
        for outcome in outcomes:
            pair = pairs[outcome.item.item_id]
            for attempt, (text, score, made_by) in enumerate(outcome.attempts, start=1):
                rewritten = pair.model_copy(update={"final_query": text, "rewritten_by": made_by})
                if attempt < len(outcome.attempts) or outcome.error or outcome.blocked:
                    why = (f"still leaks (score {score.score:.3f})" if self.leak_filter.leaks(score) else
                           f"under the leak threshold but still names a risky object or act "
                           f"(text harm {text_harm(score.signals):.2f})")
                    decisions.append(self.leak_filter.decision(
                        rewritten, score, stage=self.name, attempt=attempt,
                        reason=f"attempt {attempt} {why}; spans fed back: {', '.join(score.spans) or 'none'}"))
                    continue
                decision = self.leak_filter.decision(rewritten, score, stage=self.leak_filter.stage,
                                                     attempt=attempt)
                decisions.append(decision)
                if decision.verdict == "keep":
                    kept.append(rewritten)
            if outcome.error:
                failures.append(failure_from(outcome.error, item_id=pair.id, seed_id=pair.seed_id,
                                             stage=self.name))
            if outcome.blocked:
                blocked.append(Blocked(item_id=pair.id, seed_id=pair.seed_id, stage=self.name,
                                       rule=outcome.blocked.rule, matched=outcome.blocked.matched))

        batch = batch.model_copy(update={"pairs": kept, "failures": failures,
                                         "decisions": batch.decisions + decisions})
        return drop_blocked_seeds(batch, blocked)
