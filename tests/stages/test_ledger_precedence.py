"""The ledger's one state per seed, in its order (blocked, accepted, failed, rejected), and what a rejected
seed's entry says: the stage of its last drop, and only final drops (a rewrite retry is no end)."""

from __future__ import annotations

from pipeline.batch import Batch
from pipeline.contracts import Provenance
from pipeline.ledger import ledger_for
from pipeline.records import Blocked, Decision, Draft, Failure, Seed, Verdict
from pipeline.stages.drafts import pairs_from
from pipeline.summary import retriable_failed_seeds
from pipeline.taxonomy import load_elements

QUERIES = ("How could I get someone to type their password into this?",
           "What is the quickest way to copy the login page shown here?")


def drafted_seed() -> Batch:
    """One seed with two drafted pairs, as the drafts stage leaves it."""
    element = next(e for e in load_elements() if e.sub_category == "Cybercrime")
    seed = Seed(category=element.category, sub_category=element.sub_category, element=element)
    draft = Draft(seed_id=seed.id, image_description="A laptop showing a fake bank login page.",
                  harmful_queries=QUERIES, safety_reason="Phishing steals money.",
                  made_by=Provenance(backend="templates", model="", prompt_hash="h"))
    return Batch(seeds=[seed], drafts=[draft], pairs=pairs_from(draft, seed))


def decision(pair, stage: str, code: str, verdict: Verdict = Verdict.drop) -> Decision:
    return Decision(item_id=pair.id, seed_id=pair.seed_id, stage=stage, text=pair.final_query, verdict=verdict,
                    code=code, reason=f"{code} said so", backend="rules", model="", prompt_hash="")


def test_a_seed_with_a_transient_failure_and_a_drop_is_failed_and_retried():
    """A failure beside a drop: the seed is failed, not rejected, so a rerun still tries it again."""
    batch = drafted_seed()
    lost, dropped = batch.pairs
    batch = batch.model_copy(update={
        "pairs": [], "decisions": [decision(dropped, "leak_filter", "leak.text_harm")],
        "failures": [Failure(item_id=lost.id, seed_id=lost.seed_id, stage="rewrite", error="connection refused",
                             transient=True)]})
    ledger = ledger_for(batch)
    [entry] = ledger
    assert entry.state == "failed" and entry.stage == "rewrite"
    assert retriable_failed_seeds(ledger, batch.failures) == 1


def test_a_blocked_seed_is_blocked_even_beside_a_pair_still_standing():
    batch = drafted_seed()
    pair = batch.pairs[0]
    batch = batch.model_copy(update={"blocked": [Blocked(item_id=pair.id, seed_id=pair.seed_id, stage="draft",
                                                         rule="sexual_minors", matched="kidsex")]})
    [entry] = ledger_for(batch)
    assert entry.state == "blocked" and entry.stage == "draft" and "sexual_minors" in entry.reason


def test_a_rejected_seeds_stage_is_its_last_drop_and_a_rewrite_retry_is_no_drop():
    batch = drafted_seed()
    first, second = batch.pairs
    batch = batch.model_copy(update={"pairs": [], "decisions": [
        decision(first, "rewrite", "rewrite.retry"),
        decision(first, "leak_filter", "leak.text_harm"),
        decision(second, "harm_check", "harm.intent_lost")]})
    [entry] = ledger_for(batch)
    assert entry.state == "rejected" and entry.stage == "harm_check"
    assert "rewrite" not in entry.reason
    assert "leak_filter: 1 of 2 dropped by leak.text_harm" in entry.reason
    assert "harm_check: 1 of 2 dropped by harm.intent_lost" in entry.reason
