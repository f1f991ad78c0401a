"""The ledger: exactly one terminal state per seed, derived from what the stages recorded."""

from __future__ import annotations

import textwrap
from collections import defaultdict

from pipeline.batch import Batch
from pipeline.contracts import StageName
from pipeline.guardrails import masked
from pipeline.records import Decision, Failure, LedgerEntry, TerminalState
from pipeline.stages.drafts import unusable_queries, usable_queries

FAILURE_CHARS = 160  # a failure's error in an accepted seed's reason; the failures table has it whole


def _rejection_reason(drops: list[Decision], total: int) -> str:
    if not drops:
        return "no candidate pairs came out of the drafts"
    by_rule = defaultdict(list)
    for drop in drops:
        by_rule[(drop.stage, drop.code)].append(drop)
    parts = []
    for (stage, code), decisions in by_rule.items():
        # the drop nearest to keeping, told by the number of the rule that dropped it (which side of
        # its threshold drops differs by rule: a leak score above, an intent similarity below)
        nearest = min(decisions, key=lambda d: abs(d.score - d.threshold)
                      if d.score is not None and d.threshold is not None else float("inf"))
        parts.append(f"{stage}: {len(decisions)} of {total} dropped by {code} (nearest to its threshold: score "
                     f"{nearest.score:.3f} vs {nearest.threshold:.3f}; {nearest.reason})"
                     if nearest.score is not None and nearest.threshold is not None
                     else f"{stage}: {len(decisions)} of {total} dropped by {code} ({nearest.reason})")
    return "; ".join(parts)


def _failure_reason(failures: list[Failure]) -> str:
    first = failures[0]
    return (f"{len(failures)} failed at {first.stage} "
            f"(first: {textwrap.shorten(first.error, FAILURE_CHARS, placeholder=' ...')})")


def _others_reason(drops: list[Decision], failures: list[Failure], total: int) -> str:
    """Why an accepted seed's other queries did not make it: the filters' drops and the failures."""
    parts = ([_rejection_reason(drops, total)] if drops else []) + ([_failure_reason(failures)] if failures else [])
    return "; ".join(parts) or "no decision or failure recorded"


def _left_out_reason(left_out: list[tuple[str, str]]) -> str:
    """The writer's texts that were no queries: they never became pairs, so no filter speaks of them."""
    told = ", ".join(f"{textwrap.shorten(query, 60, placeholder='...')!r} ({problem})" for query, problem in left_out)
    return f"; {len(left_out)} written quer{'y' if len(left_out) == 1 else 'ies'} left out: {told}"


def _blocked_element(element: str, rule: str) -> str:
    """A blocked seed's element as the ledger writes it: masked like its reason when a private person
    stopped it, since the person may be in the element itself (an image-first seed's element is its
    pool caption's subject: "photo of my neighbour emily carter")."""
    return masked(element) if rule.startswith("private_person:") else element


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
    queries, left_out = defaultdict(int), defaultdict(str)
    for draft in batch.drafts:
        queries[draft.seed_id] = len(usable_queries(draft))
        if unusable := unusable_queries(draft):
            left_out[draft.seed_id] = _left_out_reason(unusable)

    entries = []
    for seed in batch.seeds:
        common = dict(seed_id=seed.id, category=seed.category, sub_category=seed.sub_category,
                      element=seed.element.element)
        total = queries.get(seed.id, 0)
        if seed.id in blocks:
            block = blocks[seed.id]
            entry = LedgerEntry(**{**common, "element": _blocked_element(seed.element.element, block.rule)},
                                state=TerminalState.blocked, stage=block.stage,
                                reason=f"guardrail {block.rule} matched {block.matched!r}")
        elif accepted[seed.id]:
            dropped = total - accepted[seed.id]
            reason = f"{accepted[seed.id]} of {total} queries accepted"
            if dropped:
                reason += "; others: " + _others_reason(final_drops[seed.id], failures[seed.id], total)
            entry = LedgerEntry(**common, state=TerminalState.accepted, stage=StageName.export,
                                reason=reason + left_out[seed.id], accepted_pairs=accepted[seed.id])
        elif failures[seed.id]:
            first = failures[seed.id][0]
            entry = LedgerEntry(**common, state=TerminalState.failed, stage=first.stage,
                                reason=f"{len(failures[seed.id])} failure(s); first: {first.error}")
        else:
            drops = final_drops[seed.id]
            entry = LedgerEntry(**common, state=TerminalState.rejected,
                                stage=drops[-1].stage if drops else StageName.drafts,
                                reason=_rejection_reason(drops, total) + left_out[seed.id])
        entries.append(entry)
    return entries
