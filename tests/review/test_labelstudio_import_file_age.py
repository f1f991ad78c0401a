"""Lab audit #1: an older download of a Label Studio project, imported after a newer one, withdrew
every annotation made after it, for good. An annotation is withdrawn only by a file that is no older
than its decision: something in it (a task's `updated_at`, which Label Studio moves when one of its
annotations is deleted, or an annotation's time) is as late as the decision's Label Studio time."""

from __future__ import annotations

import json

import pytest

from tests.review.test_labelstudio_import_history import ACCEPT, REJECT, annotation, cli_import, current
from tests.review.test_review_labelstudio import shaped_like_an_export
from tests.support.review_runs import make_run

from pipeline.review.batches import export_batches, load_batches
from pipeline.review.store import ReviewStore


@pytest.fixture()
def batches(tmp_path):
    """Every pair assigned to both alice and bob."""
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=1.0, annotators=["alice", "bob"])
    return load_batches(tmp_path / "fake")


def test_an_older_download_withdraws_nothing_made_after_it_and_the_newer_one_still_imports(batches, tmp_path):
    older = shaped_like_an_export(batches)  # alice's download: her accepts, day 1
    for number, task in enumerate(older[:2]):
        task["annotations"] = [annotation(10 + number, 7, ACCEPT, 1)]
        task["updated_at"] = "2026-01-01T00:00:00Z"
    newer = json.loads(json.dumps(older))  # bob's, after he rejected both on day 3
    for number, task in enumerate(newer[:2]):
        task["annotations"].append(annotation(20 + number, 8, REJECT, 3))
        task["updated_at"] = "2026-01-03T00:00:00Z"
    store = ReviewStore.for_runs(tmp_path)
    assert "4 new decisions recorded" in cli_import(tmp_path, newer).output
    after_newer = current(store)

    result = cli_import(tmp_path, older)
    assert current(store) == after_newer  # bob's rejects stand
    pair = older[0]["data"]["pair_id"]
    assert (f"task 100 annotation 20: bob's reject of pair {pair} (2026-01-03T00:00:00.000+00:00) is not in the "
            "file, but nothing in the file is as late (its latest change: 2026-01-01T00:00:00.000+00:00): an "
            "older download? The decision stands") in result.output
    assert "0 new decisions recorded, 0 withdrawn, 2 not withdrawn (the file is older than them)" in result.output
    assert "error: 2 decision(s) missing from an older file not withdrawn (listed above)" in result.output
    assert result.exit_code == 1

    again = cli_import(tmp_path, newer)  # the newer file still imports: nothing to change
    assert again.exit_code == 0 and "0 new decisions recorded, 0 withdrawn\n" in again.output, again.output
    assert current(store) == after_newer


def test_an_annotation_deleted_after_everything_else_is_withdrawn_by_its_tasks_time(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [annotation(1, 7, ACCEPT, 1), annotation(2, 8, REJECT, 2)]
    store, pair = ReviewStore.for_runs(tmp_path), exported[0]["data"]["pair_id"]
    cli_import(tmp_path, exported)

    exported[0]["annotations"] = exported[0]["annotations"][:1]  # bob's, the latest change, deleted
    result = cli_import(tmp_path, exported)  # nothing in it is as late as bob's day-2 decision: maybe older
    assert result.exit_code == 1 and "bob's reject of pair" in result.output and "not withdrawn" in result.output
    assert current(store)[(pair, "bob")] == "reject"

    exported[0]["updated_at"] = "2026-01-04T00:00:00Z"  # Label Studio moves the task's time on a deletion
    result = cli_import(tmp_path, exported)
    assert result.exit_code == 0 and "0 new decisions recorded, 1 withdrawn" in result.output, result.output
    assert current(store) == {(pair, "alice"): "accept", (pair, "bob"): "skip"}
