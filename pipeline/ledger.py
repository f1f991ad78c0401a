"""The ledger: exactly one terminal state per seed, derived from what the stages recorded."""

from __future__ import annotations

from collections import defaultdict

from pipeline.batch import Batch
from pipeline.contracts import StageName
from pipeline.records import Decision, LedgerEntry, TerminalState


def _rejection_reason(drops: list[Decision], total: int) -> str:
    if not drops:
        return "no candidate pairs came out of the drafts"
    by_rule = defaultdict(list)
    for drop in drops:
        by_rule[(drop.stage, drop.code)].append(drop)
    parts = []
    for (stage, code), decisions in by_rule.items():
        # the drop nearest to keeping, told by the number of the rule that dropped it
        lowest = min(decisions, key=lambda d: d.score if d.score is not None else 0.0)
        parts.append(f"{stage}: {len(decisions)} of {total} dropped by {code} (lowest score "
                     f"{lowest.score:.3f} vs threshold {lowest.threshold:.3f}; {lowest.reason})"
                     if lowest.score is not None and lowest.threshold is not None
                     else f"{stage}: {len(decisions)} of {total} dropped by {code} ({lowest.reason})")
    return "; ".join(parts)


def ledger_for(batch: Batch) -> list[LedgerEntry]:
    accepted = defaultdict(int)
    for pair in batch.pairs:
        accepted[pair.seed_id] += 1
    blocks = {block.seed_id: block for block in reversed(batch.blocked)}
    failures = defaultdict(list)
    for failure in batch.failures:
        failures[failure.seed_id].append(failure)
    final_drops = defaultdict(list)
    for decision in batch.decisions:
        if decision.verdict != "keep" and decision.stage != StageName.rewrite:  # rewrite attempts are not ends
            final_drops[decision.seed_id].append(decision)
    queries = defaultdict(int)
    for draft in batch.drafts:
        queries[draft.seed_id] = len(set(draft.harmful_queries))

    entries = []
    for seed in batch.seeds:
        common = dict(seed_id=seed.id, category=seed.category, sub_category=seed.sub_category,
                      element=seed.element.element)
        total = queries.get(seed.id, 0)
        if seed.id in blocks:
            block = blocks[seed.id]
            entry = LedgerEntry(**common, state=TerminalState.blocked, stage=block.stage,
                                reason=f"guardrail {block.rule} matched {block.matched!r}")
        elif accepted[seed.id]:
            dropped = total - accepted[seed.id]
            reason = f"{accepted[seed.id]} of {total} queries accepted"
            if dropped:
                reason += "; others: " + (_rejection_reason(final_drops[seed.id], total)
                                          if final_drops[seed.id] else "failed")
            entry = LedgerEntry(**common, state=TerminalState.accepted, stage=StageName.export,
                                reason=reason, accepted_pairs=accepted[seed.id])
        elif failures[seed.id]:
            first = failures[seed.id][0]
            entry = LedgerEntry(**common, state=TerminalState.failed, stage=first.stage,
                                reason=f"{len(failures[seed.id])} failure(s); first: {first.error}")
        else:
            drops = final_drops[seed.id]
            entry = LedgerEntry(**common, state=TerminalState.rejected,
                                stage=drops[-1].stage if drops else StageName.drafts,
                                reason=_rejection_reason(drops, total))
        entries.append(entry)
    return entries
