"""Label Studio audit (session 33): an import follows each annotator's latest word in Label Studio.
An older export imported after a newer one changes nothing, a withdrawal needs the annotation's own
task in the file, and a changed annotation the import refuses withdraws the decision it replaced."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.review.test_labelstudio_import_checks import ScriptedScorer
from tests.review.test_review_labelstudio import choice, edit, shaped_like_an_export
from tests.review.test_review_labelstudio_import import PassingScorer, USERS
from tests.support.review_runs import make_run

from pipeline.cli.app import app
from pipeline.review.batches import export_batches, load_batches
from pipeline.review.labelstudio_import import import_export, plan_import
from pipeline.review.labelstudio_withdrawals import superseded_withdrawal, withdraw_missing
from pipeline.review.store import ReviewStore

ACCEPT = [choice("verdict", "accept")]
REJECT = [choice("verdict", "reject"), choice("reason", "low_quality")]


@pytest.fixture()
def batches(tmp_path):
    """Every pair assigned to both alice and bob."""
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=1.0, annotators=["alice", "bob"])
    return load_batches(tmp_path / "fake")


def annotation(number: int, user: int, result: list, day: int, **extra) -> dict:
    return {"id": number, "completed_by": user, "result": result, "updated_at": f"2026-01-0{day}T00:00:00Z",
            **extra}


def current(store) -> dict:
    return {(e.pair_id, e.annotator): e.action for e in store.current(run_id="fake")}


def run_import(exported, batches, store, users=USERS):
    plan = plan_import(exported, batches, users)
    import_export(plan.planned, store, PassingScorer())
    return withdraw_missing(plan, store, "fake")


def in_project(exported: list[dict], project: int, first_id: int) -> list[dict]:
    """The tasks as another Label Studio project holds them: its own task ids."""
    return [{**task, "id": first_id + number, "project": project, "annotations": []}
            for number, task in enumerate(exported)]


def cli_import(tmp_path, exported):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported))
    return CliRunner().invoke(app, ["review", "labelstudio-import", "fake", str(path), "--runs-dir", str(tmp_path),
                                    "--user", "7=alice", "--user", "8=bob"])


def test_an_older_export_after_a_newer_one_changes_nothing_and_says_so(batches, tmp_path):
    older = shaped_like_an_export(batches)
    older[0]["annotations"] = [annotation(1, 7, ACCEPT, 1), annotation(2, 8, REJECT, 1)]
    newer = json.loads(json.dumps(older))
    newer[0]["annotations"] = [annotation(2, 8, ACCEPT, 3)]  # alice's deleted, bob's changed to accept
    assert cli_import(tmp_path, older).exit_code == 0
    assert "1 withdrawn" in cli_import(tmp_path, newer).output
    store, pair = ReviewStore.for_runs(tmp_path), older[0]["data"]["pair_id"]
    assert current(store) == {(pair, "alice"): "skip", (pair, "bob"): "accept"}

    result = cli_import(tmp_path, older)  # the older file picked by mistake
    assert current(store) == {(pair, "alice"): "skip", (pair, "bob"): "accept"}
    assert "task 100 annotation 2: older (2026-01-01T00:00:00.000+00:00) than bob's Label Studio decision of " \
           "2026-01-03T00:00:00.000+00:00, which stands" in result.output
    assert "task 100 annotation 1: no newer (2026-01-01T00:00:00.000+00:00) than alice's Label Studio decision " \
           "of 2026-01-01T00:00:00.000+00:00, which stands" in result.output  # her withdrawn one, deleted since
    assert "0 new decisions recorded, 0 withdrawn, 2 older than the Label Studio decisions already " \
           "recorded (they stand)" in result.output
    assert result.exit_code == 1


def test_an_annotation_made_before_the_import_ran_is_newer_than_a_withdrawal_it_follows(batches, tmp_path):
    """A withdrawal was stamped with the import's own time, so an annotation made in Label Studio after
    the export was downloaded but before the import ran read as older than it, refused on every import
    (review 33). It keeps the withdrawn decision's Label Studio time."""
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [annotation(1, 7, ACCEPT, 1)]
    assert cli_import(tmp_path, exported).exit_code == 0
    exported[0]["annotations"] = []
    assert "1 withdrawn" in cli_import(tmp_path, exported).output
    exported[0]["annotations"] = [annotation(5, 7, REJECT, 2)]  # day 2: long before this test runs
    result = cli_import(tmp_path, exported)
    assert "1 new decisions recorded" in result.output and result.exit_code == 0, result.output
    assert current(ReviewStore.for_runs(tmp_path)) == {(exported[0]["data"]["pair_id"], "alice"): "reject"}


def test_only_an_annotation_gone_from_its_own_task_is_withdrawn(batches, tmp_path):
    first = in_project(shaped_like_an_export(batches), 1, 100)
    first[0]["annotations"] = [annotation(1, 7, ACCEPT, 1), annotation(2, 8, REJECT, 1)]
    first[1]["annotations"] = [annotation(3, 7, ACCEPT, 1)]
    store = ReviewStore.for_runs(tmp_path)
    run_import(first, batches, store)
    before = current(store)

    second = in_project(first, 2, 200)  # another project of the run: bob alone, one task
    second[0]["annotations"] = [annotation(9, 8, REJECT, 2)]
    withdrawal = run_import(second, batches, store)
    assert withdrawal.withdrawn == [] and current(store) == before
    assert withdrawal.unchecked == [f"batch {batches[0].manifest.batch_id}: 2 earlier Label Studio decision(s) "
                                    "on tasks this file does not hold (another Label Studio project's?); they "
                                    "stand (if their tasks were deleted, decide them in the review app)"]
    assert run_import(first, batches, store).withdrawn == []  # project 1 again: bob's project-2 word stands

    assert run_import(first, batches, store, users={"8": "bob"}).withdrawn == []  # alice's --user forgotten
    assert current(store) == before

    first[0]["annotations"][0]["was_cancelled"] = True
    first[1]["annotations"] = []
    assert run_import(first, batches, store).withdrawn == [
        f"task 100 annotation 1: alice's accept of pair {first[0]['data']['pair_id']} is withdrawn: its annotation "
        "was skipped (cancelled) in Label Studio",
        f"task 101 annotation 3: alice's accept of pair {first[1]['data']['pair_id']} is withdrawn: its annotation "
        "is no longer in Label Studio's export"]


def test_a_changed_annotation_the_import_refuses_withdraws_the_decision_it_replaced(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [annotation(1, 7, ACCEPT, 1), annotation(2, 8, ACCEPT, 1)]
    store, pair = ReviewStore.for_runs(tmp_path), exported[0]["data"]["pair_id"]
    run_import(exported, batches, store)
    # alice turns hers into a reject without a reason (the API allows it), bob his into a leaky edit
    exported[0]["annotations"] = [annotation(1, 7, [choice("verdict", "reject")], 3),
                                  annotation(2, 8, [edit("a leaky rewording?")], 3)]
    plan = plan_import(exported, batches, USERS)
    outcome = import_export(plan.planned, store, ScriptedScorer(("leaks: score 1.000",)))
    assert plan.skipped == ["task 100 annotation 1: a reject needs a reason"] and len(outcome.refused) == 1
    withdrawn = superseded_withdrawal(plan.unusable + outcome.unusable, store, "fake").withdrawn
    assert withdrawn == [
        f"task 100 annotation {number}: {name}'s earlier accept of pair {pair} is withdrawn: their changed "
        "annotation cannot be used (its warning says why); decide the pair in the review app" for number, name in ((1, "alice"),
                                                                                                    (2, "bob"))]
    assert current(store) == {(pair, "alice"): "skip", (pair, "bob"): "skip"}
    assert withdraw_missing(plan, store, "fake").withdrawn == []  # nothing withdrawn twice
    assert superseded_withdrawal(plan_import(exported, batches, USERS).unusable, store, "fake").withdrawn == []  # nor on a re-import


def test_the_command_names_a_decision_a_refused_annotation_replaced(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [annotation(1, 7, ACCEPT, 1)]
    assert cli_import(tmp_path, exported).exit_code == 0
    exported[0]["annotations"] = [annotation(1, 7, [choice("verdict", "reject")], 2)]
    result = cli_import(tmp_path, exported)
    assert result.exit_code == 1 and "0 new decisions recorded, 1 withdrawn" in result.output
    assert "alice's earlier accept of pair " in result.output and "decide the pair in the review app" in result.output


def test_a_json_min_or_csv_export_is_named_and_json_asked_for(batches, tmp_path):
    rows = [{**task["data"], "id": task["id"], "verdict": "accept", "annotator": 7}
            for task in shaped_like_an_export(batches)]
    result = cli_import(tmp_path, rows)
    assert result.exit_code == 2 and result.output.strip().endswith(
        "export.json: this is Label Studio's JSON_MIN export (one flattened row per annotation, without the "
        "tasks' full annotations): export the project as JSON")
    path = tmp_path / "export.json"
    path.write_text('"annotation_id","annotator","batch_id","pair_id","query","verdict"\n2,"3","b","p","q","accept"\n')
    result = CliRunner().invoke(app, ["review", "labelstudio-import", "fake", str(path), "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2 and result.output.strip().endswith(
        "export.json: this is Label Studio's CSV export: export the project as JSON")
    assert not (tmp_path / "review.sqlite").exists()


@pytest.mark.parametrize(("request_id", "expected"), [
    ("labelstudio:100:5:3:fake:p1:after-0", ("100", "5", "3")),
    ("labelstudio:100:5:fake:p1:after-0", ("100", "5", None)),
    # the first import format kept the annotation's time there, colons and all (review 33: read as no ids,
    # such a decision was never withdrawn and was reported as on "tasks this file does not hold")
    ("labelstudio:100:5:2026-01-01T00:00:00Z:fake:p1:after-0", ("100", "5", None)),
    ("labelstudio:100:5:2026-01-01T00:00:00.000+00:00:fake:p1:after-0", ("100", "5", None)),
    ("web-1234", None),
])
def test_the_ids_an_imported_event_keeps_are_read_from_every_request_id_format(request_id, expected):
    from pipeline.review.labelstudio_annotations import annotation_ids

    ids = annotation_ids(request_id, "fake", "p1")
    assert (ids and (ids.task, ids.annotation, ids.project)) == expected


def test_a_refused_annotation_older_than_the_annotators_usable_one_withdraws_nothing(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [annotation(1, 7, ACCEPT, 1)]
    store, pair = ReviewStore.for_runs(tmp_path), exported[0]["data"]["pair_id"]
    run_import(exported, batches, store)
    # alice adds a reject without a reason (day 2), then accepts again in a third annotation (day 3):
    # her word in Label Studio is still accept
    exported[0]["annotations"] = [annotation(1, 7, ACCEPT, 1), annotation(2, 7, [choice("verdict", "reject")], 2),
                                  annotation(3, 7, ACCEPT, 3)]
    plan = plan_import(exported, batches, USERS)
    outcome = import_export(plan.planned, store, PassingScorer())
    assert superseded_withdrawal(plan.unusable + outcome.unusable, store, "fake", plan.planned).withdrawn == []
    assert current(store) == {(pair, "alice"): "accept"}
