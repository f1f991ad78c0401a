"""Mutation round 14's pins on the leak filter and the rewrite loop (each test fails with its mutant)."""

from __future__ import annotations

from types import SimpleNamespace

from pipeline.records import LeakScores
from pipeline.stages.leak_filter import JUDGE_SIGNAL, LeakFilterStage

DETECTOR = SimpleNamespace(backend="leak-detector", model="stand-in", version="v", threshold=0.5)


def test_a_judge_that_gave_no_answer_is_no_leak_verdict():
    # LF3: the judge signal read as 'not 0' made a failed judge (-1.0) a leak.judge verdict, so the rewrite
    # loop retried an attempt the detector found clean, and its retry decision said it leaked
    stage = LeakFilterStage(DETECTOR, threshold=0.5)
    failed = LeakScores(score=0.1, text_harm=0.1, reveal=0.05, signals={JUDGE_SIGNAL: -1.0})

    assert stage.verdict(failed) == (False, "leak.none")
    assert stage.verdict(failed.model_copy(update={"signals": {JUDGE_SIGNAL: 1.0}})) == (True, "leak.judge")


def test_a_judge_that_refused_a_pair_leaves_a_settled_failure_not_a_retriable_one():
    # LF7: the leak filter's failure for a judge error always transient: a refusal (settled) counted as
    # retriable, and every rerun asked the judge again for an answer it will not give
    from pipeline.batch import Batch
    from pipeline.contracts import ItemError
    from tests.stages.test_leak_filter_asks_the_judge_again import QuietDetector, a_pair

    class RefusingJudge:
        backend, model, prompt_hash = "test-judge", "judge-model", "h"

        def judge(self, questions):
            return [ItemError("refused: content policy", transient=False) for _ in questions]

    stage = LeakFilterStage(QuietDetector(), judge=RefusingJudge())
    batch = stage(Batch(seeds=[], pairs=[a_pair(None)]))

    assert batch.pairs == []
    assert [(failure.stage, failure.transient) for failure in batch.failures] == [("leak_filter", False)]


def test_a_users_row_that_already_passes_is_left_as_it_is_with_its_scores():
    # RL4: score_first ignored: `leakless rewrite FILE` sent rows that already pass the filter to the
    # rewriter and shipped them changed
    from pipeline.contracts import Provenance
    from pipeline.stages.rewrite_loop import RewriteItem, rewrite_until_clean
    from tests.stages.test_leak_filter_asks_the_judge_again import QuietDetector

    class Recording:
        backend, model, prompt_hash = "rules", "", ""

        def __init__(self):
            self.asked = []

        def rewrite_with_provenance(self, requests):
            self.asked += [request.query for request in requests]
            return [("What is shown here?", Provenance(backend="rules", model="", prompt_hash="")) for _ in requests]

    rewriter = Recording()
    item = RewriteItem(item_id="a", query="What is on the table?", image_description="a cup on a table")

    [outcome] = rewrite_until_clean([item], rewriter, LeakFilterStage(QuietDetector()), max_attempts=3,
                                    score_first=True)

    assert rewriter.asked == [] and outcome.attempts == [] and outcome.original.score == 0.1


def test_each_attempt_is_fed_back_every_span_flagged_so_far():
    # RL8: feedback built from the latest attempt's spans alone: a third attempt no longer heard the first
    # attempt's leaked span, and a rewriter could put it back
    from pipeline.contracts import Provenance
    from pipeline.stages.rewrite_loop import RewriteItem, rewrite_until_clean

    spans_of = {"first try": ("the knife",), "second try": ("the blade",), "third try": ()}

    class Detector:
        backend, model, version, threshold = "stand-in", "stand-in", "v", 0.5

        def score(self, items):
            return [SimpleNamespace(score=0.9, text_harm=0.1, reveal=0.9, signals={}, spans=spans_of[item.query])
                    for item in items]

    class Rewriter:
        backend, model, prompt_hash = "rules", "", ""

        def __init__(self):
            self.fed = []

        def rewrite_with_provenance(self, requests):
            self.fed += [request.feedback_spans for request in requests]
            text = ["first try", "second try", "third try"][len(self.fed) - 1]
            return [(text, Provenance(backend="rules", model="", prompt_hash="")) for _ in requests]

    rewriter = Rewriter()
    item = RewriteItem(item_id="a", query="How do I use the knife?", image_description="a knife")

    rewrite_until_clean([item], rewriter, LeakFilterStage(Detector()), max_attempts=3)

    assert rewriter.fed == [(), ("the knife",), ("the knife", "the blade")]


def test_a_pair_whose_rewriter_failed_after_a_retry_keeps_the_retried_attempt_in_the_audit():
    # RW1: the loop 'the final attempt is the leak filter's' applied to an ended pair too: its last scored
    # attempt, retried and then lost to the rewriter's error, left no rewrite.retry decision
    from pipeline.contracts import ItemError, Provenance
    from pipeline.stages.rewrite import RewriteStage
    from tests.stages.test_ledger_precedence import drafted_seed

    class Detector:
        backend, model, version, threshold = "stand-in", "stand-in", "v", 0.5

        def score(self, items):
            return [SimpleNamespace(score=0.9, text_harm=0.1, reveal=0.9, signals={}, spans=("login page",))
                    for _ in items]

    class Rewriter:
        backend, model, prompt_hash = "rules", "", ""
        calls = 0

        def rewrite_with_provenance(self, requests):
            self.calls += 1
            if self.calls == 1:
                return [("What is the quickest way to copy this?", Provenance(backend="rules", model="",
                                                                              prompt_hash="")) for _ in requests]
            return [ItemError("connection refused", transient=True) for _ in requests]

    batch = drafted_seed()
    batch = batch.model_copy(update={"pairs": batch.pairs[:1]})

    out = RewriteStage(Rewriter(), LeakFilterStage(Detector()), max_attempts=3)(batch)

    assert out.pairs == [] and len(out.failures) == 1
    assert [(d.stage, d.code, d.attempt) for d in out.decisions] == [("rewrite", "rewrite.retry", 1)]
