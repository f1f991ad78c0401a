"""Lab audit #2, #5 and #6: what others record while a Label Studio import runs. A decision made in
the review app after the import began stands against an older annotation (it was checked once, before
the import recorded anything), the import counts only the decisions it recorded itself, and a second
import of the run waits its turn."""

from __future__ import annotations

import os

import pytest

from tests.review.test_labelstudio_import_history import ACCEPT, annotation, cli_import, current
from tests.review.test_review_labelstudio import edit, shaped_like_an_export
from tests.review.test_review_labelstudio_import import PassingScorer, USERS
from tests.support.review_runs import make_run

from pipeline.review.batches import export_batches, load_batches
from pipeline.review.decisions import DecisionIn
from pipeline.review.labelstudio_import import import_export, import_lock, plan_import
from pipeline.review.store import ReviewStore


@pytest.fixture()
def batches(tmp_path):
    """Every pair assigned to both alice and bob."""
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=1.0, annotators=["alice", "bob"])
    return load_batches(tmp_path / "fake")


class AppDecisionMeanwhile(PassingScorer):
    """While the import checks an edit (MiniLM takes seconds), an annotator decides in the review app."""

    def __init__(self, store, task, annotator):
        self.store, self.task, self.annotator = store, task, annotator

    def check(self, item, query):
        self.store.record(DecisionIn(batch_id=self.task["data"]["batch_id"], pair_id=self.task["data"]["pair_id"],
                                     action="reject", reason="still_leaks"), annotator=self.annotator, run_id="fake")
        return super().check(item, query)


def test_an_app_decision_made_while_the_import_records_stands(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [annotation(1, 7, [edit("alice's older words for it?")], 1)]
    store, pair = ReviewStore.for_runs(tmp_path), exported[0]["data"]["pair_id"]
    outcome = import_export(plan_import(exported, batches, USERS).planned, store,
                            AppDecisionMeanwhile(store, exported[0], "alice"))
    assert current(store) == {(pair, "alice"): "reject"}  # not replaced by her day-1 edit
    assert outcome.refused == [f"task 100 annotation 1: older (2026-01-01T00:00:00.000+00:00) than alice's "
                               f"decision in the review app ({store.current(run_id='fake')[0].at}), which stands"]
    assert outcome.added == 0


def test_the_import_counts_only_the_decisions_it_recorded(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [annotation(1, 7, [edit("alice's words for it?")], 1)]
    exported[1]["annotations"] = [annotation(2, 7, ACCEPT, 1)]
    store = ReviewStore.for_runs(tmp_path)
    outcome = import_export(plan_import(exported, batches, USERS).planned, store,
                            AppDecisionMeanwhile(store, exported[0], "bob"))  # bob's, on the same pair
    assert len(store.current(run_id="fake")) == 3
    assert outcome.added == 2


def test_a_second_import_of_the_run_while_one_records_is_refused_at_once(batches, tmp_path):
    """Lab audit #5: two imports at once raced on one request id; one stopped part-way with the review
    API's message about it, which says nothing to whoever ran the import."""
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [annotation(1, 7, ACCEPT, 1)]
    store = ReviewStore.for_runs(tmp_path)
    with import_lock(store, "fake"):  # the first import, still recording
        result = cli_import(tmp_path, exported)
    assert result.exit_code == 2 and result.output.startswith("error: another Label Studio import of fake is "
                                                              f"running (pid {os.getpid()}): wait for it to end")
    assert store.current(run_id="fake") == []
    assert cli_import(tmp_path, exported).exit_code == 0 and len(store.current(run_id="fake")) == 1
