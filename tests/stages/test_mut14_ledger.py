"""Mutation round 14's pins on the ledger's reasons (each test fails with its mutant)."""

from __future__ import annotations

from pipeline.ledger import ledger_for
from pipeline.records import Decision, Verdict
from tests.stages.test_ledger_precedence import drafted_seed


def scored_drop(pair, score: float) -> Decision:
    return Decision(item_id=pair.id, seed_id=pair.seed_id, stage="leak_filter", text=pair.final_query,
                    verdict=Verdict.drop, code="leak.reveal", reason=f"leaks: score {score:.3f}", backend="rules",
                    model="", prompt_hash="", score=score, threshold=0.5)


def test_a_rejected_seeds_reason_names_the_drop_nearest_to_its_threshold():
    # LD4: min -> max told the drop farthest from keeping as the nearest
    batch = drafted_seed()
    first, second = batch.pairs
    batch = batch.model_copy(update={"pairs": [], "decisions": [scored_drop(first, 0.95), scored_drop(second, 0.55)]})

    [entry] = ledger_for(batch)

    assert entry.state == "rejected"
    assert "2 of 2 dropped by leak.reveal (nearest to its threshold: score 0.550 vs 0.500" in entry.reason, entry.reason


def test_a_seed_blocked_twice_is_told_by_its_first_block():
    # LD5: without reversed() the last block record won: the ledger named a later pair's match, not the one
    # that first stopped the seed (the stage's own order)
    from pipeline.records import Blocked

    batch = drafted_seed()
    first, second = batch.pairs
    batch = batch.model_copy(update={"pairs": [], "blocked": [
        Blocked(item_id=first.id, seed_id=first.seed_id, stage="rewrite", rule="sexual_minors", matched="first hit"),
        Blocked(item_id=second.id, seed_id=second.seed_id, stage="rewrite", rule="doxxing", matched="second hit")]})

    [entry] = ledger_for(batch)

    assert entry.state == "blocked" and entry.reason == "guardrail sexual_minors matched 'first hit'", entry.reason
