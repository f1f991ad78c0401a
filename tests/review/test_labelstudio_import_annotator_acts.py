"""What annotators do in Label Studio besides submitting (audit lscomments, against Label Studio 1.23.2):
skip a task, skip beside a submitted annotation, leave a draft over a submitted one or a draft alone,
comment (Enterprise). The task objects below are copied from that audit's real exports (its snapshot
export, `POST /api/projects/1/exports/`, lists drafts by id; the project's Export -> JSON download,
`GET /api/projects/1/export?exportType=JSON`, holds them in full); only `data` is this test run's. They
go through `review labelstudio-import` itself."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.review.test_review_labelstudio import shaped_like_an_export
from tests.support.review_runs import make_run

from pipeline.cli.app import app
from pipeline.review.batches import export_batches, load_batches
from pipeline.review.importer import import_review
from pipeline.review.store import ReviewStore

USERS = ("--user", "1=alice", "--user", "2=bob")  # the audit's lead@example.org (id 1) and bob (id 2)


def verdict(value: str) -> dict:
    return {"from_name": "verdict", "to_name": "query", "type": "choices", "value": {"choices": [value]}}


def reason(value: str) -> dict:
    return {"from_name": "reason", "to_name": "query", "type": "choices", "value": {"choices": [value]}}


def annotation(number: int, task: int, result: list, created: str, updated: str | None = None,
               cancelled: bool = False) -> dict:
    """An annotation as Label Studio 1.23.2 exports it (every field it writes)."""
    return {"id": number, "completed_by": 1, "result": result, "was_cancelled": cancelled, "ground_truth": False,
            "created_at": created, "updated_at": updated or created, "draft_created_at": None, "lead_time": None,
            "prediction": {}, "result_count": 1, "unique_id": "8d223cef-e910-4a71-af11-7432b77ec1ba",
            "import_id": None, "last_action": None, "bulk_created": False, "task": task, "project": 1,
            "updated_by": 1, "parent_prediction": None, "parent_annotation": None, "last_created_by": None}


def draft(number: int, task: int, result: list, at: str, of_annotation: int | None,
          user: tuple[str, int] = ("lead@example.org", 1)) -> dict:
    """A draft as the project's Export -> JSON holds it (a snapshot export gives only its id)."""
    return {"id": number, "user": user[0], "created_username": f"{user[0]}, {user[1]}",
            "created_ago": "1\u00a0minute", "result": result, "lead_time": 2.0, "was_postponed": False,
            "import_id": None, "created_at": at, "updated_at": at, "task": task, "annotation": of_annotation}


def task(number: int, annotations: list, drafts: list, updated: str, **counts) -> dict:
    """A task as Label Studio 1.23.2 exports it, less `data` (this run's, added by `in_run`)."""
    return {"id": number, "annotations": annotations, "drafts": drafts, "predictions": [], "meta": {},
            "created_at": "2026-12-07T18:00:20.978701Z", "updated_at": updated, "allow_skip": True,
            "inner_id": number, "total_annotations": sum(not a["was_cancelled"] for a in annotations),
            "cancelled_annotations": sum(a["was_cancelled"] for a in annotations), "total_predictions": 0,
            "comment_count": 0, "unresolved_comment_count": 0, "last_comment_updated_at": None, "project": 1,
            "updated_by": 1, "comment_authors": [], **counts}


# task 3: alice skips a task she never submitted, with a reject on screen (the editor's Skip:
# POST /api/tasks/3/annotations/?was_cancelled=1 with the result shown)
SKIPPED = task(3, [annotation(3, 3, [verdict("reject"), reason("still_leaks")], "2026-12-07T18:01:32.208176Z",
                              "2026-12-07T18:01:32.208202Z", cancelled=True)], [], "2026-12-07T18:01:32.310179Z")
# task 9: alice accepted (annotation 8), then skipped it in a second annotation (13)
ACCEPTED_9 = annotation(8, 9, [verdict("accept")], "2026-12-07T18:01:33.942895Z", "2026-12-07T18:01:33.942918Z")
SKIPPED_BESIDE = annotation(13, 9, [verdict("reject"), reason("still_leaks")], "2026-12-07T18:01:59.076648Z",
                            "2026-12-07T18:01:59.076672Z", cancelled=True)


@pytest.fixture()
def run(tmp_path):
    """Every pair assigned to both alice and bob."""
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=1.0, annotators=["alice", "bob"])
    return tmp_path, shaped_like_an_export(load_batches(tmp_path / "fake"))


def in_run(run, *tasks: dict) -> list[dict]:
    """The tasks with this run's data, one pair each, in order."""
    _, ours = run
    return [{**exported, "data": ours[number]["data"]} for number, exported in enumerate(tasks)]


def cli_import(run, exported: list[dict]):
    folder, _ = run
    path = folder / "export.json"
    path.write_text(json.dumps(exported))
    return CliRunner().invoke(app, ["review", "labelstudio-import", "fake", str(path), "--runs-dir", str(folder),
                                    *USERS])


def current(run) -> dict:
    folder, _ = run
    return {(e.pair_id, e.annotator): (e.action, e.source, e.at)
            for e in ReviewStore.for_runs(folder).current(run_id="fake")}


def state(run, pair: str) -> str:
    folder, _ = run
    return import_review(folder / "fake", ReviewStore.for_runs(folder)).set_index("id").loc[pair, "review_state"]


def test_a_skip_in_label_studio_is_the_annotators_skip_and_the_verdict_on_screen_is_not_used(run):
    exported = in_run(run, SKIPPED)
    pair = exported[0]["data"]["pair_id"]
    result = cli_import(run, exported)
    assert result.exit_code == 0, result.output
    assert current(run) == {(pair, "alice"): ("skip", "labelstudio", "2026-12-07T18:01:32.208+00:00")}
    assert "warning: task 3 annotation 3: a skip (the annotation is cancelled); what was on screen " \
           "(reject: still_leaks) was not used" in result.output
    assert "1 new decisions recorded, 0 withdrawn" in result.output
    assert "0 new decisions recorded" in cli_import(run, exported).output  # once
    folder, _ = run
    status = CliRunner().invoke(app, ["review", "status", "fake", "--runs-dir", str(folder)]).output
    alice = next(line for line in status.splitlines() if " alice " in line)
    assert [cell.strip() for cell in alice.split("│")[3:5]] == ["1", "1"]  # decided (incl. skipped), skipped


def test_a_later_skip_beside_a_submitted_annotation_counts_and_withdraws_the_imported_accept(run):
    first = in_run(run, task(9, [ACCEPTED_9], [], "2026-12-07T18:01:33.957718Z"))  # the audit's export1
    pair = first[0]["data"]["pair_id"]
    assert cli_import(run, first).exit_code == 0 and state(run, pair) == "accepted"

    second = in_run(run, task(9, [ACCEPTED_9, SKIPPED_BESIDE], [], "2026-12-07T18:01:59.218480Z"))  # export2
    result = cli_import(run, second)
    assert result.exit_code == 0, result.output
    assert "warning: task 9 annotation 13: alice has 2 annotations on this task; only this one (a skip), changed " \
           "last (2026-12-07T18:01:59.076+00:00), counts" in result.output
    assert f"warning: task 9 annotation 8: alice's accept of pair {pair} is withdrawn: their later annotation on " \
           "the task (13, 2026-12-07T18:01:59.076+00:00) was skipped (cancelled) in Label Studio" in result.output
    assert "0 new decisions recorded, 1 withdrawn" in result.output
    assert current(run)[(pair, "alice")][:2] == ("skip", "labelstudio") and state(run, pair) == "skipped"
    assert "0 new decisions recorded, 0 withdrawn" in cli_import(run, second).output  # once


def test_a_skip_changed_after_the_accept_is_the_annotators_word_on_a_first_import(run):
    exported = in_run(run, task(9, [ACCEPTED_9, SKIPPED_BESIDE], [], "2026-12-07T18:01:59.218480Z"))
    pair = exported[0]["data"]["pair_id"]
    assert cli_import(run, exported).exit_code == 0
    assert current(run) == {(pair, "alice"): ("skip", "labelstudio", "2026-12-07T18:01:59.076+00:00")}


# task 7: alice accepted (annotation 12), reopened it, chose reject: low_quality and left without pressing
# Update (POST /api/tasks/7/annotations/12/drafts): the draft, in full as Export -> JSON holds it
ACCEPTED_7 = annotation(12, 7, [verdict("accept")], "2026-12-07T18:01:34.253562Z", "2026-12-07T18:01:34.253586Z")
DRAFT_OVER_ACCEPT = draft(2, 7, [verdict("reject"), reason("low_quality")], "2026-12-07T18:01:38.171689Z", 12)
HELD = ("warning: task 7 annotation 12: alice's accept is not used: alice has an unsubmitted draft newer than it "
        "(reject: low_quality, 2026-12-07T18:01:38.171+00:00): have them submit it in Label Studio (Update, or "
        "Submit), or decide the pair in the review app: skipped")


def test_a_draft_over_a_submitted_accept_holds_the_accept_back_and_says_so(run):
    exported = in_run(run, task(7, [ACCEPTED_7], [DRAFT_OVER_ACCEPT], "2026-12-07T18:01:34.267939Z"))
    pair = exported[0]["data"]["pair_id"]
    result = cli_import(run, exported)
    assert result.exit_code == 1 and HELD in result.output
    assert "error: 1 annotation(s) skipped (listed above)" in result.output
    assert current(run) == {} and state(run, pair) == "unreviewed"


def test_a_draft_over_an_imported_accept_withdraws_it_until_the_annotator_presses_update(run):
    before = in_run(run, task(7, [ACCEPTED_7], [], "2026-12-07T18:01:34.267939Z"))  # exported before the draft
    pair = before[0]["data"]["pair_id"]
    assert cli_import(run, before).exit_code == 0 and state(run, pair) == "accepted"

    exported = in_run(run, task(7, [ACCEPTED_7], [DRAFT_OVER_ACCEPT], "2026-12-07T18:01:34.267939Z"))
    result = cli_import(run, exported)
    assert result.exit_code == 1 and HELD in result.output
    assert f"alice's earlier accept of pair {pair} is withdrawn" in result.output
    assert current(run)[(pair, "alice")][:2] == ("skip", "labelstudio") and state(run, pair) == "skipped"
    again = cli_import(run, exported)  # not settled yet: said again, withdrawn once
    assert again.exit_code == 1 and HELD in again.output and "0 new decisions recorded, 0 withdrawn" in again.output

    # she presses Update: Label Studio saves the annotation and deletes the draft
    updated = {**ACCEPTED_7, "result": DRAFT_OVER_ACCEPT["result"], "updated_at": "2026-12-07T18:02:10.000000Z"}
    result = cli_import(run, in_run(run, task(7, [updated], [], "2026-12-07T18:02:10.100000Z")))
    assert result.exit_code == 0 and "1 new decisions recorded" in result.output
    assert current(run)[(pair, "alice")][:2] == ("reject", "labelstudio") and state(run, pair) == "rejected"


def test_a_draft_listed_by_id_only_holds_the_tasks_decisions_and_asks_for_the_full_export(run):
    exported = in_run(run, task(7, [ACCEPTED_7], [2], "2026-12-07T18:01:34.267939Z"))  # the snapshot's "drafts": [2]
    pair = exported[0]["data"]["pair_id"]
    result = cli_import(run, exported)
    assert result.exit_code == 1
    assert "warning: task 7: Label Studio holds unsubmitted draft(s) (id 2) that this export lists by id only, so " \
           "whether one is newer than alice's accept (annotation 12) cannot be told: not used (a decision an " \
           "earlier import recorded stands); export the project with its drafts in full" in result.output
    assert current(run) == {} and state(run, pair) == "unreviewed"


# task 2: alice chose reject: image_mismatch and never submitted (POST /api/tasks/2/drafts)
DRAFT_ONLY = draft(1, 2, [verdict("reject"), reason("image_mismatch")], "2026-12-07T18:01:32.145672Z", None)


def test_a_draft_never_submitted_is_noted_once_per_task_in_either_export(run):
    full = in_run(run, task(2, [], [DRAFT_ONLY], "2026-12-07T18:00:20.978671Z"))
    result = cli_import(run, full)
    assert result.exit_code == 0
    assert result.output.count("task 2:") == 1 and \
        "warning: task 2: alice has an unsubmitted draft (reject: image_mismatch, 2026-12-07T18:01:32.145+00:00) " \
        "and no submitted annotation, so nothing of theirs is recorded: have them submit it in Label Studio" \
        in result.output
    snapshot = in_run(run, task(2, [], [1], "2026-12-07T18:00:20.978671Z"))
    result = cli_import(run, snapshot)
    assert result.exit_code == 0 and result.output.count("task 2:") == 1
    assert "warning: task 2: Label Studio holds unsubmitted draft(s) (id 1) that this export lists by id only, so " \
           "nothing of them is recorded: have their annotator submit them in Label Studio" in result.output
    assert current(run) == {}


def test_another_users_draft_beside_an_accept_is_noted_and_holds_nothing_back(run):
    bobs = draft(4, 7, [verdict("reject"), reason("not_harmful")], "2026-12-07T18:01:40.000000Z", None,
                 user=("bob@example.org", 2))
    exported = in_run(run, task(7, [ACCEPTED_7], [bobs], "2026-12-07T18:01:34.267939Z"))
    pair = exported[0]["data"]["pair_id"]
    result = cli_import(run, exported)
    assert result.exit_code == 0 and "task 7: bob has an unsubmitted draft (reject: not_harmful, " in result.output
    assert current(run) == {(pair, "alice"): ("accept", "labelstudio", "2026-12-07T18:01:34.253+00:00")}


def test_a_task_with_unresolved_comments_is_named_and_its_decisions_still_recorded(run):
    # task 12 of the audit's simulated Enterprise export (export3_lse_comment.json): an accept, one comment
    accepted = annotation(11, 12, [verdict("accept")], "2026-12-07T18:01:34.174873Z", "2026-12-07T18:01:34.174900Z")
    commented = task(12, [accepted], [], "2026-12-07T18:01:34.194268Z", comment_count=1, unresolved_comment_count=1,
                     last_comment_updated_at="2026-12-07T18:01:34.194268Z", comment_authors=[1])
    exported = in_run(run, commented, task(10, [], [], "2026-12-07T18:01:59.606419Z"))  # and one without
    result = cli_import(run, exported)
    assert result.exit_code == 0 and "1 new decisions recorded" in result.output
    assert "warning: task 12 has 1 unresolved comment in Label Studio: comments are not imported; read it there " \
           "before trusting the task's decisions" in result.output
    assert "task 10" not in result.output


def test_an_annotation_turned_back_into_a_draft_is_withdrawn_saying_so_where_the_export_shows_it(run):
    # task 11: alice's accept (annotation 10), imported, then POST /api/annotations/10/convert-to-draft
    accepted = annotation(10, 11, [verdict("accept")], "2026-12-07T18:01:34.098048Z", "2026-12-07T18:01:34.098068Z")
    before = in_run(run, task(11, [accepted], [], "2026-12-07T18:01:34.111804Z"))
    pair = before[0]["data"]["pair_id"]
    assert cli_import(run, before).exit_code == 0
    converted = draft(3, 11, [verdict("accept")], "2026-12-07T18:01:59.703583Z", None)
    result = cli_import(run, in_run(run, task(11, [], [converted], "2026-12-07T18:01:59.712626Z")))
    assert f"warning: task 11 annotation 10: alice's accept of pair {pair} is withdrawn: its annotation was turned " \
           "back into a draft in Label Studio (draft 3, 2026-12-07T18:01:59.703+00:00); it counts again once " \
           "submitted" in result.output
    assert state(run, pair) == "skipped"


def test_a_converted_annotation_a_snapshot_lists_by_draft_id_only_is_said_to_be_gone(run):
    accepted = annotation(10, 11, [verdict("accept")], "2026-12-07T18:01:34.098048Z", "2026-12-07T18:01:34.098068Z")
    before = in_run(run, task(11, [accepted], [], "2026-12-07T18:01:34.111804Z"))
    assert cli_import(run, before).exit_code == 0
    result = cli_import(run, in_run(run, task(11, [], [3], "2026-12-07T18:01:59.712626Z")))
    assert "is withdrawn: its annotation is no longer in Label Studio's export" in result.output


def test_a_skip_of_a_pair_not_assigned_to_the_user_decides_nothing_and_is_no_error(tmp_path):
    # Label Studio shows every task to everyone: bob skipping alice's pair is no refusal (review38 found
    # the import exiting 1 on it once skips were read)
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=0.0, annotators=["alice", "bob"])
    batch = load_batches(tmp_path / "fake")[0]
    exported = shaped_like_an_export([batch])
    alices = next(t for t in exported if t["data"]["pair_id"] in batch.manifest.pairs_for("alice"))
    bob_skips = {**annotation(13, 9, [], "2026-12-07T18:01:59.076648Z", cancelled=True), "completed_by": 2}
    task_9 = {**task(9, [ACCEPTED_9, bob_skips], [], "2026-12-07T18:01:59.218480Z"), "data": alices["data"]}
    result = cli_import((tmp_path, exported), [task_9])
    assert result.exit_code == 0, result.output
    assert "not assigned" not in result.output
    pair = alices["data"]["pair_id"]
    assert current((tmp_path, exported)) == {(pair, "alice"): ("accept", "labelstudio", "2026-12-07T18:01:33.942+00:00")}


def test_a_skip_by_a_user_no_mapping_names_is_named_with_the_user_hint(tmp_path):
    # review38b: once other users' skips were passed over, an unmapped annotator's skip of their own
    # pair went too, without a word (their verdicts get the --user hint)
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=0.0, annotators=["alice", "bob"])
    batch = load_batches(tmp_path / "fake")[0]
    exported = shaped_like_an_export([batch])
    assigned = next(t for t in exported if t["data"]["pair_id"] in batch.manifest.pairs_for("alice"))
    skipped = {**annotation(13, 9, [], "2026-12-07T18:01:59.076648Z", cancelled=True), "completed_by": 7}
    task_9 = {**task(9, [skipped], [], "2026-12-07T18:01:59.218480Z"), "data": assigned["data"]}
    result = cli_import((tmp_path, exported), [task_9])
    assert result.exit_code == 1, result.output
    assert "not assigned to labelstudio-user-7 (name the Label Studio user with --user" in result.output
