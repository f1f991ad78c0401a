"""summary.md's reason-code table: a rewrite attempt tried again ends no pair, a keep is counted as
kept, a seed's end leaves its accepted pairs alone, a seed that ended at the drafts stage ended none."""

from __future__ import annotations

from collections import Counter

from pipeline.records import Decision, Verdict
from pipeline.summary import FAILURE_CODE, pairs_ended
from tests.test_summary_counts import drafted_batch, summary_table


def decision(pair, stage: str, verdict: Verdict, code: str) -> Decision:
    return Decision(item_id=pair.id, seed_id=pair.seed_id, stage=stage, text="q", verdict=verdict,
                    code=code, reason=code, backend="rules", model="", prompt_hash="")


def test_a_rewrite_attempt_tried_again_ends_no_pair_and_a_keep_counts_as_kept():
    batch = drafted_batch()
    pair = batch.pairs[0]
    batch = batch.model_copy(update={"decisions": [
        decision(pair, "rewrite", Verdict.drop, "leak.reveal"),      # the first attempt leaked: tried again
        decision(pair, "leak_filter", Verdict.keep, "leak.none")]})  # the second passed
    table = summary_table(batch)  # decisions, kept, pairs ended, seeds
    assert table[("rewrite", "leak.reveal")][:3] == ["1", "0", "0"]
    assert table[("leak_filter", "leak.none")][:3] == ["1", "1", "0"]


def test_a_seeds_end_takes_only_the_pairs_not_accepted():
    """Pairs ended and pairs accepted add up to the pairs drafted."""
    drafted, accepted = 3, 1
    counts = pairs_ended([("image", FAILURE_CODE, "s1", "s1")], {"s1": drafted}, Counter({"s1": accepted}))
    assert counts[("image", FAILURE_CODE)].pairs == drafted - accepted


def test_a_seed_that_failed_at_the_drafts_stage_ended_no_pair():
    counts = pairs_ended([("drafts", FAILURE_CODE, "s1", "s1")], {}, Counter())
    assert counts[("drafts", FAILURE_CODE)].pairs == 0
