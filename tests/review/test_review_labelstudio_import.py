"""What a Label Studio export says, and only that, reaches the store: an annotation or task deleted
there withdraws its earlier decision, Label Studio's own times order the annotations, another run's
export is refused, a user named by e-mail needs --url, and an edit with bidi controls is refused."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.review.test_review_labelstudio import choice, edit, shaped_like_an_export
from tests.support.review_runs import make_run

from pipeline.cli.app import app
from pipeline.review.forms import DecisionRefused, decision_of
from pipeline.review.batches import export_batches, load_batches
from pipeline.review.decisions import DecisionIn
from pipeline.review.importer import import_review
from pipeline.review.labelstudio_import import check_export, import_export, plan_import
from pipeline.review.labelstudio_withdrawals import withdraw_missing
from pipeline.review.scoring import EditCheck
from pipeline.review.store import ReviewStore

USERS = {"7": "alice", "8": "bob"}


class PassingScorer:
    """Every edit passes its check (the real one loads MiniLM; what is tested here is the ordering)."""

    def check(self, item, query):
        return EditCheck(score=0.1, threshold=0.5, spans=(), detector_version="test", harm_verdict="keep",
                         harm_reason="ok", intent_similarity=0.9)


@pytest.fixture()
def batches(tmp_path):
    """Every pair assigned to both alice and bob."""
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=1.0, annotators=["alice", "bob"])
    return load_batches(tmp_path / "fake")


def run_import(exported, batches, store):
    plan = plan_import(exported, batches, USERS)
    outcome = import_export(plan.planned, store, PassingScorer())
    return plan, outcome, withdraw_missing(plan, store, "fake")


def states(tmp_path, store):
    return dict(zip(*import_review(tmp_path / "fake", store)[["id", "review_state"]].to_dict("list").values()))


def test_a_deleted_annotation_or_task_withdraws_its_earlier_decision(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]}]
    exported[1]["annotations"] = [{"id": 2, "completed_by": 7, "result": [choice("verdict", "accept")]}]
    store = ReviewStore.for_runs(tmp_path)
    run_import(exported, batches, store)
    first, second = exported[0]["data"]["pair_id"], exported[1]["data"]["pair_id"]
    assert states(tmp_path, store)[first] == states(tmp_path, store)[second] == "accepted"

    exported[0]["annotations"] = []  # the annotation deleted in Label Studio
    del exported[1]  # the whole task deleted
    _, _, withdrawal = run_import(exported, batches, store)
    assert withdrawal.withdrawn == [
        f"task 100 annotation 1: alice's accept of pair {first} is withdrawn: its annotation is no longer "
        "in Label Studio's export",
        f"task 101 annotation 2: alice's accept of pair {second} is withdrawn: its task is no longer in "
        "Label Studio's export"]
    assert states(tmp_path, store)[first] == states(tmp_path, store)[second] == "skipped"
    _, outcome, again = run_import(exported, batches, store)  # a re-import withdraws nothing twice
    assert (outcome.added, again.withdrawn) == (0, [])


def test_a_cancelled_annotation_withdraws_but_a_review_app_decision_made_since_stands(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]},
                                  {"id": 2, "completed_by": 8, "result": [choice("verdict", "accept")]}]
    store, pair = ReviewStore.for_runs(tmp_path), exported[0]["data"]["pair_id"]
    run_import(exported, batches, store)
    store.record(DecisionIn(batch_id=exported[0]["data"]["batch_id"], pair_id=pair, action="reject",
                            reason="still_leaks"), annotator="bob", run_id="fake")
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "was_cancelled": True, "result": []}]
    _, _, withdrawal = run_import(exported, batches, store)
    assert [line.split(": ")[1] for line in withdrawal.withdrawn] == [f"alice's accept of pair {pair} is withdrawn"]
    current = {event.annotator: (event.action, event.source) for event in store.current(run_id="fake")}
    assert current == {"alice": ("skip", "labelstudio"), "bob": ("reject", "web")}


def test_a_batch_with_no_task_in_the_file_is_named_not_withdrawn(tmp_path):
    export_batches(make_run(tmp_path, pairs=4), batch_size=2, annotators=["alice"])
    batches = load_batches(tmp_path / "fake")
    exported = shaped_like_an_export(batches)
    for number, task in enumerate(exported):
        task["annotations"] = [{"id": number, "completed_by": 7, "result": [choice("verdict", "accept")]}]
    store = ReviewStore.for_runs(tmp_path)
    run_import(exported, batches, store)
    kept = [task for task in exported if task["data"]["batch_id"] == batches[0].manifest.batch_id]
    _, _, withdrawal = run_import(kept, batches, store)
    assert withdrawal.withdrawn == []
    assert withdrawal.unchecked == [f"batch {batches[1].manifest.batch_id}: earlier Label Studio decisions, but "
                                    "no task of it in the file; they stand (if its tasks were deleted, decide "
                                    "them in the review app)"]


def test_two_annotators_different_edits_are_a_conflict_whatever_the_file_order(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [
        {"id": 2, "completed_by": 8, "result": [edit("bob's later words for it?")],
         "created_at": "2026-01-01T09:00:00Z", "updated_at": "2026-01-02T10:00:00.123456Z"},
        {"id": 1, "completed_by": 7, "result": [edit("alice's earlier words for it?")],
         "created_at": "2026-01-01T08:00:00Z", "updated_at": "2026-01-01T08:30:00Z"}]
    store = ReviewStore.for_runs(tmp_path)
    run_import(exported, batches, store)
    row = import_review(tmp_path / "fake", store).set_index("id").loc[exported[0]["data"]["pair_id"]]
    assert row["review_state"] == "conflict" and row["instruction_reviewed"] == row["instruction"]
    times = {event.annotator: event.at for event in store.current(run_id="fake")}
    assert times == {"alice": "2026-01-01T08:30:00.000+00:00", "bob": "2026-01-02T10:00:00.123+00:00"}


def test_one_users_annotation_changed_last_counts_and_the_others_are_noted(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [
        {"id": 4, "completed_by": 7, "result": [choice("verdict", "reject"), choice("reason", "not_harmful")],
         "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-04T00:00:00Z"},
        {"id": 5, "completed_by": 7, "result": [choice("verdict", "accept")], "created_at": "2026-01-03T00:00:00Z"}]
    plan = plan_import(exported, batches, USERS)
    assert [(p.decision.action, p.at) for p in plan.planned] == [("reject", "2026-01-04T00:00:00.000+00:00")]
    assert plan.notes == ["task 100 annotation 4: alice has 2 annotations on this task; only this one, changed "
                          "last (2026-01-04T00:00:00.000+00:00), counts"]


def test_events_are_recorded_in_label_studio_time_order(batches, tmp_path):
    """alice edits, bob edits, alice edits again: alice's second edit is her word, and it differs from bob's."""
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [
        {"id": 1, "completed_by": 7, "result": [edit("alice's first words?")], "updated_at": "2026-01-01T00:00:00Z"},
        {"id": 2, "completed_by": 8, "result": [edit("bob's words?")], "updated_at": "2026-01-03T00:00:00Z"},
        {"id": 3, "completed_by": 7, "result": [edit("alice's last words?")], "updated_at": "2026-01-05T00:00:00Z"}]
    store = ReviewStore.for_runs(tmp_path)
    run_import(exported, batches, store)
    assert {e.annotator: e.edited_query for e in store.current(run_id="fake")} == {
        "alice": "alice's last words?", "bob": "bob's words?"}
    row = import_review(tmp_path / "fake", store).set_index("id").loc[exported[0]["data"]["pair_id"]]
    assert row["review_state"] == "conflict"


def test_an_annotation_time_that_is_not_iso_8601_is_skipped(batches):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")],
                                   "updated_at": "yesterday"}]
    plan = plan_import(exported, batches, USERS)
    assert plan.planned == [] and plan.skipped == ["task 100 annotation 1: updated_at 'yesterday' is not an "
                                                   "ISO 8601 time"]


def test_another_runs_export_is_one_error_and_exit_2(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    with pytest.raises(ValueError, match="name run fake, not other: import it into the run it was exported from"):
        check_export(exported, "other")
    for task in exported:
        task["data"]["run_id"] = "elsewhere"
        task["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]}]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported))
    result = CliRunner().invoke(app, ["review", "labelstudio-import", "fake", str(path), "--runs-dir", str(tmp_path),
                                      "--user", "7=alice"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: {path}: the file's tasks name run elsewhere, not fake: import it into the run it was exported "
        "from"]
    assert ReviewStore.for_runs(tmp_path).current() == []


def test_a_user_named_by_email_needs_url_when_the_export_gives_ids(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]}]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported))
    command = ["review", "labelstudio-import", "fake", str(path), "--runs-dir", str(tmp_path),
               "--user", "lead@example.org=alice"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "--user lead@example.org=alice names a Label Studio user by e-mail, which needs --url" in result.output

    exported[0]["annotations"][0]["completed_by"] = {"id": 7, "email": "lead@example.org"}  # an older export
    path.write_text(json.dumps(exported))
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert "1 new decisions recorded, 0 withdrawn" in result.output


BIDI_EDIT = "how do I store \u202eeniacoc\u202c safely?"  # displays as "...store cocaine safely?"


def test_an_edit_with_bidi_controls_is_refused_everywhere_edits_are_taken(batches):
    with pytest.raises(ValueError, match=r"bidirectional control characters \(U\+202C, U\+202E\)"):
        DecisionIn(batch_id="b", pair_id="p", action="edit", edited_query=BIDI_EDIT)
    with pytest.raises(DecisionRefused, match="bidirectional control characters"):  # the review app's form
        decision_of({"action": "edit", "edited_query": "what is \u2067this\u2069?"}, "b", "p")
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [edit(BIDI_EDIT)]}]
    plan = plan_import(exported, batches, USERS)
    assert plan.planned == []
    (line,) = plan.skipped
    assert line.startswith("task 100 annotation 1: the edit holds bidirectional control characters")


def test_an_older_annotation_does_not_undo_the_annotators_later_app_decision(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    pair = exported[0]["data"]["pair_id"]
    store = ReviewStore.for_runs(tmp_path)
    store.record(DecisionIn(batch_id=exported[0]["data"]["batch_id"], pair_id=pair, action="accept",
                            request_id="app-1"), annotator="alice", run_id="fake", source="web")
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [edit("alice's older words?")],
                                   "updated_at": "2020-01-01T00:00:00Z"}]
    _, outcome, _ = run_import(exported, batches, store)
    assert outcome.added == 0
    assert len(outcome.refused) == 1 and "alice's decision in the review app" in outcome.refused[0]
    reviewed = import_review(tmp_path / "fake", store).set_index("id")
    assert reviewed.loc[pair, "instruction_reviewed"] == reviewed.loc[pair, "instruction"]  # the app's accept stands
