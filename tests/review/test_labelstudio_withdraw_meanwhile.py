"""Concurrency audit #1: a Label Studio import read the annotators' current decisions once, then
withdrew (recorded a skip) on top of a decision an annotator saved in the review app after that read.
Each withdrawal is now checked under the store's write lock as it is written: the app decision stands
(the other withdrawal path's case: test_labelstudio_withdraw_superseded_meanwhile.py)."""

from __future__ import annotations

import pytest

from tests.review.test_labelstudio_import_history import ACCEPT, annotation, current, run_import
from tests.review.test_review_labelstudio import shaped_like_an_export
from tests.review.test_review_labelstudio_import import USERS
from tests.support.review_runs import make_run

from pipeline.review.batches import export_batches, load_batches
from pipeline.review.decisions import DecisionIn
from pipeline.review.labelstudio_import import plan_import
from pipeline.review.labelstudio_withdrawals import withdraw_missing
from pipeline.review.store import ReviewStore


@pytest.fixture()
def batches(tmp_path):
    """Every pair assigned to both alice and bob."""
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=1.0, annotators=["alice", "bob"])
    return load_batches(tmp_path / "fake")


def decide_in_app_after_the_read(monkeypatch, store: ReviewStore, task: dict, annotator: str) -> None:
    """Right after the import's next read of the current decisions (and before it writes anything), the
    annotator rejects the task's pair in the review app, as another connection to the store."""
    read = store.current

    def current_then_app_decision(**filters):
        events = read(**filters)
        monkeypatch.setattr(store, "current", read)  # once
        ReviewStore(store.path).record(
            DecisionIn(batch_id=task["data"]["batch_id"], pair_id=task["data"]["pair_id"], action="reject",
                       reason="low_quality"), annotator=annotator, run_id="fake")
        return events

    monkeypatch.setattr(store, "current", current_then_app_decision)


def app_decision(store: ReviewStore, annotator: str):
    return next(event for event in store.current(run_id="fake") if event.annotator == annotator)


def test_a_deletion_does_not_withdraw_over_an_app_decision_saved_while_the_import_ran(batches, tmp_path,
                                                                                      monkeypatch):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [annotation(1, 7, ACCEPT, 1), annotation(2, 8, ACCEPT, 1)]
    store, pair = ReviewStore.for_runs(tmp_path), exported[0]["data"]["pair_id"]
    run_import(exported, batches, store)
    exported[0]["annotations"], exported[0]["updated_at"] = [], "2026-01-03T00:00:00Z"  # both deleted
    plan = plan_import(exported, batches, USERS)

    decide_in_app_after_the_read(monkeypatch, store, exported[0], "alice")
    withdrawal = withdraw_missing(plan, store, "fake")

    assert current(store) == {(pair, "alice"): "reject", (pair, "bob"): "skip"}  # hers stands, his withdrawn
    assert withdrawal.withdrawn == [f"task 100 annotation 2: bob's accept of pair {pair} is withdrawn: its "
                                    "annotation is no longer in Label Studio's export"]
    saved = app_decision(store, "alice")
    assert saved.source == "web"
    assert withdrawal.unchecked == [f"task 100 annotation 1: alice's accept of pair {pair} is not withdrawn: alice "
                                    f"decided the pair in the review app since (reject (low_quality), {saved.at}), "
                                    "which stands"]
