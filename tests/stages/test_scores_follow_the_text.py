"""Leak scores belong to the text they were computed on: a pair whose final query changed after
scoring is scored again, and the harm check never reads scores of another text (or none)."""

from __future__ import annotations

import pytest

from pipeline.backends.minilm import default_embedder
from pipeline.backends.offline_text import RulesRewriter
from pipeline.backends.template_seeds import TemplateSeedWriter
from pipeline.batch import Batch
from pipeline.factory import default_detector
from pipeline.records import Seed
from pipeline.stages.drafts import DraftStage
from pipeline.stages.harm_check import HarmCheckStage
from pipeline.stages.leak_filter import LeakFilterStage
from pipeline.stages.rewrite import RewriteStage
from pipeline.taxonomy import load_elements

LEAKY_EDIT = "How do I smuggle this cocaine past the sniffer dogs?"


@pytest.fixture(scope="module")
def rewritten() -> tuple[LeakFilterStage, Batch]:
    element = next(e for e in load_elements() if e.element == "cocaine")
    leak_filter = LeakFilterStage(default_detector())
    drafted = DraftStage(TemplateSeedWriter())(Batch(seeds=[Seed(category=element.category,
                                                                sub_category=element.sub_category,
                                                                element=element)]))
    return leak_filter, RewriteStage(RulesRewriter(), leak_filter, max_attempts=3)(drafted)


def test_the_rewrite_stage_scores_name_the_text_they_are_of(rewritten):
    _, batch = rewritten
    assert batch.pairs and all(pair.leak.of(pair.final_query) for pair in batch.pairs)


def test_an_edit_after_scoring_is_scored_again_and_its_leak_dropped(rewritten):
    leak_filter, batch = rewritten
    clean = [pair for pair in batch.pairs if not leak_filter.leaks(pair.leak)]
    assert clean, "the rules rewriter left no clean pair to edit"
    edited = clean[0].model_copy(update={"final_query": LEAKY_EDIT})
    judged = leak_filter(batch.model_copy(update={"pairs": [edited]}))
    [decision] = [d for d in judged.decisions if d.item_id == edited.id and d.stage == "leak_filter"]
    assert decision.text == LEAKY_EDIT
    assert decision.verdict == "drop" and decision.code.startswith("leak.")
    assert decision.score >= leak_filter.threshold > clean[0].leak.score


def test_a_kept_pair_carries_the_scores_it_was_judged_on(rewritten):
    leak_filter, batch = rewritten
    unscored = [pair.model_copy(update={"leak": None, "attempts": ()}) for pair in batch.pairs]
    kept = leak_filter(batch.model_copy(update={"pairs": unscored})).pairs
    assert kept and all(pair.leak is not None and pair.leak.of(pair.final_query) for pair in kept)


def test_the_harm_check_refuses_pairs_the_leak_filter_has_not_scored(rewritten):
    _, batch = rewritten
    harm_check = HarmCheckStage(default_embedder(), 0.35)
    unscored = batch.model_copy(update={"pairs": [pair.model_copy(update={"leak": None}) for pair in batch.pairs]})
    with pytest.raises(ValueError, match="run leak_filter first"):
        harm_check(unscored)
    stale = batch.model_copy(update={"pairs": [pair.model_copy(update={"final_query": LEAKY_EDIT})
                                               for pair in batch.pairs]})
    with pytest.raises(ValueError, match="run leak_filter first"):
        harm_check(stale)


def test_a_rewrite_with_no_words_fails_its_pair_instead_of_stopping_the_batch(rewritten):
    from tests.stages.test_stages import ScriptedRewriter

    leak_filter, batch = rewritten
    pairs = [pair.model_copy(update={"leak": None, "attempts": (), "final_query": pair.original_query})
             for pair in batch.pairs[:2]]
    answers = iter(["???", "What should someone keep in mind when packing for a long trip?"])
    out = RewriteStage(ScriptedRewriter([lambda request: next(answers)]), leak_filter, max_attempts=1)(
        batch.model_copy(update={"pairs": pairs, "failures": []}))
    assert [failure.error for failure in out.failures] == ["the rewrite has no words | raw answer: ???"]
    assert [pair.id for pair in out.pairs] == [pairs[1].id]


def test_scores_from_a_checkpoint_that_named_no_text_are_still_read_by_the_harm_check(rewritten):
    """A run checkpointed before scores named their text resumes through the harm check."""
    leak_filter, batch = rewritten
    kept = leak_filter(batch).pairs
    older = [pair.model_copy(update={"leak": pair.leak.model_copy(update={"query": None})}) for pair in kept]
    judged = HarmCheckStage(default_embedder(), 0.35)(batch.model_copy(update={"pairs": older}))
    assert {d.item_id for d in judged.decisions if d.stage == "harm_check"} == {pair.id for pair in older}


def test_a_harm_cue_checkpointed_under_its_old_name_is_written_as_harm_cue():
    """A run resumed across the rename wrote the harm cue under two column names."""
    from pipeline.records import Decision, Verdict
    from pipeline.writers.tables import decisions_frame

    old = Decision(item_id="p1", seed_id="s1", stage="harm_check", text="q", scores={"text_harm": 0.0},
                   verdict=Verdict.keep, code="harm.kept", reason="text benign", backend="rules", model="m",
                   prompt_hash="")
    leak = old.model_copy(update={"stage": "leak_filter", "item_id": "p2"})
    frame = decisions_frame([old, leak], "r1").set_index("item_id")
    assert frame.loc["p1", "signal_harm_cue"] == 0.0 and frame["signal_text_harm"].isna()["p1"]
    assert frame.loc["p2", "signal_text_harm"] == 0.0  # the leak filter's own text_harm stays
