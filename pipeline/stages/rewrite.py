"""The rewrite stage: the rewrite loop over a batch's pairs; it only rewrites.

Each pair leaves with its attempts (`pair.attempts`), its final query and that query's
leak scores (`pair.leak`); the leak filter stage, next, decides on them. Attempts that
were retried are written down as stage "rewrite" decisions (code `rewrite.retry`), so
the audit sees every query that was tried. A rewrite the guardrail blocks taints its
seed; a rewriter error is the pair's failure.
"""

from __future__ import annotations

from pipeline.backends.base import Rewriter
from pipeline.batch import Batch
from pipeline.contracts import ReasonCode, StageName
from pipeline.records import Blocked, LeakScores
from pipeline.stages.base import Stage, drop_blocked_seeds, failure_from, failure_text
from pipeline.stages.harm_check import harm_cues
from pipeline.stages.leak_filter import LeakFilterStage
from pipeline.stages.rewrite_loop import RewriteItem, rewrite_until_clean


class RewriteStage(Stage):
    name = StageName.rewrite

    def __init__(self, rewriter: Rewriter, leak_filter: LeakFilterStage, max_attempts: int = 3):
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

        decisions, failures, blocked, rewritten = [], list(batch.failures), [], []
        for outcome in outcomes:
            pair = pairs[outcome.item.item_id]
            ended = bool(outcome.error or outcome.blocked)
            for number, attempt in enumerate(outcome.attempts, start=1):
                if number == len(outcome.attempts) and not ended:
                    break  # the final attempt is the leak filter's to judge
                leak = attempt.leak
                why = (f"still leaks (score {leak.score:.3f})" if self.leak_filter.leaks(leak) else
                       f"under the leak threshold but still names a risky object or act "
                       f"(harm cue {harm_cues(leak.signals):.2f})")
                tried = pair.model_copy(update={"final_query": attempt.query})
                decisions.append(self.leak_filter.decision(tried, self.leak_filter.judgement(
                    leak, attempt=number, code=ReasonCode.rewrite_retry,
                    reason=(f"attempt {number} {why}{judge_note(leak)}; "
                            f"spans fed back: {', '.join(leak.spans) or 'none'}")),
                    stage=self.name))
            if outcome.error:
                failures.append(failure_from(outcome.error, item_id=pair.id, seed_id=pair.seed_id,
                                             stage=self.name, category=pair.category))
            if outcome.blocked:
                blocked.append(Blocked(item_id=pair.id, seed_id=pair.seed_id, stage=self.name,
                                       rule=outcome.blocked.rule, matched=outcome.blocked.matched))
            if outcome.final and not ended:
                rewritten.append(pair.model_copy(update={
                    "final_query": outcome.final.query, "rewritten_by": outcome.final.made_by,
                    "attempts": tuple(outcome.attempts), "leak": outcome.final.leak}))

        batch = batch.model_copy(update={"pairs": rewritten, "failures": failures,
                                         "decisions": batch.decisions + decisions})
        return drop_blocked_seeds(batch, blocked)


def judge_note(leak: LeakScores) -> str:
    """Where the VSIL judge gave no answer for an attempt (its signal -1), the reason says so, and that the
    attempt was retried on the detector's score alone."""
    if leak.judge_error is None:
        return ""
    return f" (the VSIL judge gave no answer ({failure_text(leak.judge_error)}); the detector's score alone)"
