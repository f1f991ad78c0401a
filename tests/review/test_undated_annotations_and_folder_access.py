"""Pinned in mutation round 7: the import and the store's access rules where the suite let changes through."""

from __future__ import annotations

import pytest

from tests.review.test_labelstudio_import_history import ACCEPT, current
from tests.review.test_review_labelstudio import shaped_like_an_export
from tests.review.test_review_labelstudio_import import PassingScorer, USERS
from tests.support.review_runs import make_run

from pipeline.review.batches import export_batches, load_batches
from pipeline.review.decisions import DecisionIn
from pipeline.review.labelstudio_import import import_export, plan_import
from pipeline.review.store import ReviewStore


@pytest.fixture()
def batches(tmp_path):
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=1.0, annotators=["alice", "bob"])
    return load_batches(tmp_path / "fake")


def test_an_undated_annotation_is_recorded_over_an_app_decision(batches, tmp_path):
    # an export that gives no time cannot show the annotation older than the app decision: it is recorded
    # (as before the import checked app decisions under the write lock), not refused as "older (None)"
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": ACCEPT}]
    store, pair = ReviewStore.for_runs(tmp_path), exported[0]["data"]["pair_id"]
    store.record(DecisionIn(batch_id=exported[0]["data"]["batch_id"], pair_id=pair, action="reject",
                            reason="low_quality"), annotator="alice", run_id="fake")
    plan = plan_import(exported, batches, USERS)
    assert [planned.at for planned in plan.planned] == [None]

    outcome = import_export(plan.planned, store, PassingScorer())

    assert outcome.refused == [] and outcome.added == 1
    assert current(store) == {(pair, "alice"): "accept"}


def test_a_member_who_may_write_the_store_but_not_its_folder_only_reads_it(tmp_path, monkeypatch):
    # the writer's -wal and -shm files are made in the folder: a user who may not write it must get the
    # read-only connection (a writer one fails to open even for a read), and a write names the folder
    import os

    from pipeline.review.store_connection import StoreNotWritable

    export_batches(make_run(tmp_path, pairs=2), batch_size=2, annotators=["ann"])
    store = ReviewStore.for_runs(tmp_path)
    store.record(DecisionIn(batch_id="fake-b000", pair_id="p1", action="accept"), annotator="ann", run_id="fake")
    access = os.access
    monkeypatch.setattr(os, "access", lambda name, mode: access(name, mode) and not
                        (mode & os.W_OK and str(name) == str(tmp_path)))

    assert ReviewStore.events_in(tmp_path, "fake") == 1
    with pytest.raises(StoreNotWritable, match=rf"\({tmp_path.name} is "):
        ReviewStore.for_runs(tmp_path).add_token("bob", ["fake-b000"])
    assert sorted(path.name for path in tmp_path.glob("review.sqlite-*")) == []
