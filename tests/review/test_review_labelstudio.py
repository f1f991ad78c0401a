"""Label Studio interop: tasks that match our labelling config (images by URL, no pre-filled
verdict unless asked), and its JSON exports back into the store, one bad annotation at a time."""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from tests.support.review_runs import make_run

from pipeline.cli.app import app
from pipeline.review.batches import export_batches, load_batches
from pipeline.review.decisions import REASONS, DecisionIn
from pipeline.review.labelstudio import LABEL_CONFIG, check_tasks, export_tasks, parse_config
from pipeline.review.labelstudio_import import ImportOutcome, import_export, plan_import
from pipeline.review.labelstudio_users import annotator_name
from pipeline.review.labelstudio_users import fetch_emails, parse_user_options, user_names
from pipeline.review.scoring import EditScorer
from pipeline.review.store import ReviewStore


@pytest.fixture()
def batches(tmp_path):
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, annotators=["alice"])
    return load_batches(tmp_path / "fake")


def test_config_has_the_controls_our_tasks_use():
    controls, variables = parse_config(LABEL_CONFIG)
    assert variables == {"image", "query", "description", "category"}
    assert controls["verdict"].choices == ("accept", "reject") and controls["verdict"].to_name == "query"
    assert controls["reason"].choices == REASONS
    assert controls["edited_query"].tag == "TextArea"


def test_the_reason_is_required_and_shown_when_the_verdict_is_reject():
    assert '<Header value="Category"/>' in LABEL_CONFIG
    reason = LABEL_CONFIG[LABEL_CONFIG.index('<Choices name="reason"'):]
    reason = reason[:reason.index(">")]
    for attribute in ('required="true"', 'visibleWhen="choice-selected"', 'whenTagName="verdict"',
                      'whenChoiceValue="reject"'):
        assert attribute in reason


def test_tasks_carry_an_image_url_and_no_verdict_by_default(batches):
    exported = export_tasks(batches)
    assert len(exported.tasks) == 4 and len(exported.images) == 4
    first = exported.tasks[0]
    assert "predictions" not in first
    name = first["data"]["image"].removeprefix("/data/local-files/?d=images/")
    assert exported.images[name].read_bytes().startswith(b"\x89PNG")
    assert first["data"]["leak_score"] == 0.1
    assert (first["data"]["leak_text_harm"], first["data"]["leak_reveal"], first["data"]["leak_code"]) == (0.1, 0.05, "leak.none")


def test_prefill_model_pre_selects_the_pipelines_verdict_without_a_confidence(batches):
    first = export_tasks(batches, "https://cdn.example/run/", prefill="model").tasks[0]
    assert first["data"]["image"].startswith("https://cdn.example/run/seed")
    (prediction,) = first["predictions"]
    assert prediction["model_version"] == "offline-1+test" and "score" not in prediction
    assert prediction["result"][0]["value"] == {"choices": ["accept"]}


@pytest.mark.parametrize("break_it, message", [
    (lambda t: t["data"].pop("description"), "lacks"),
    (lambda t: t["predictions"][0]["result"][0].update(from_name="label"), "no control"),
    (lambda t: t["predictions"][0]["result"][0].update(to_name="image"), "no control"),
    (lambda t: t["predictions"][0]["result"][0]["value"].update(choices=["keep"]), "not in verdict"),
])
def test_check_tasks_catches_what_label_studio_would_not(batches, break_it, message):
    broken = copy.deepcopy(export_tasks(batches, prefill="model").tasks[:1])
    break_it(broken[0])
    with pytest.raises(ValueError, match=message):
        check_tasks(broken)


def choice(name: str, value: str) -> dict:
    return {"from_name": name, "to_name": "query", "type": "choices", "value": {"choices": [value]}}


def edit(text: str) -> dict:
    return {"from_name": "edited_query", "to_name": "query", "type": "textarea", "value": {"text": [text]}}


def shaped_like_an_export(batches) -> list[dict]:
    """Label Studio's JSON export: tasks with ids; annotations with result and completed_by."""
    return [{"id": 100 + number, "data": task["data"], "annotations": []}
            for number, task in enumerate(export_tasks(batches).tasks)]


@pytest.fixture()
def shared_batches(tmp_path):
    """Every pair assigned to both alice and bob."""
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=1.0, annotators=["alice", "bob"])
    return load_batches(tmp_path / "fake")


CLEAN_EDIT = "how could I hide what is on the table?"  # leak-free, harmless, the intent of "hide the knife" kept


@pytest.mark.slow
def test_an_export_from_label_studio_lands_in_the_store_once(shared_batches, tmp_path):
    exported = shaped_like_an_export(shared_batches)
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]},
                                  {"id": 2, "completed_by": {"id": 8, "email": "bob@example.org"},
                                   "result": [choice("verdict", "reject"), choice("reason", "not_harmful")]}]
    exported[1]["annotations"] = [{"id": 3, "completed_by": 7, "result": [
        choice("verdict", "accept"), edit(CLEAN_EDIT)]}]
    exported[2]["annotations"] = [{"id": 4, "completed_by": 7, "was_cancelled": True, "result": []}]
    store = ReviewStore.for_runs(tmp_path)
    plan = plan_import(exported, shared_batches, {"7": "alice", "bob@example.org": "bob"})
    assert plan.skipped == [] and plan.notes == []
    assert import_export(plan.planned, store, EditScorer()) == ImportOutcome(4, [])  # the cancelled one: a skip
    assert import_export(plan.planned, store, EditScorer()) == ImportOutcome(0, [])  # re-import: nothing new
    current = {(e.pair_id, e.annotator): e for e in store.current(run_id="fake")}
    first, second = exported[0]["data"]["pair_id"], exported[1]["data"]["pair_id"]
    assert current[(exported[2]["data"]["pair_id"], "alice")].action == "skip"
    assert current[(first, "alice")].action == "accept"
    assert current[(first, "bob")].reason == "not_harmful"
    edited = current[(second, "alice")]
    assert edited.action == "edit" and edited.source == "labelstudio"
    # the edit carries its whole check, as one made in the review app does
    assert edited.new_leak_score < edited.leak_threshold and edited.harm_verdict == "keep"
    assert edited.detector_version

    exported[0]["annotations"][0]["result"] = [choice("verdict", "reject"), choice("reason", "image_mismatch")]
    plan = plan_import(exported, shared_batches, {"7": "alice", "bob@example.org": "bob"})
    assert import_export(plan.planned, store, EditScorer()) == ImportOutcome(1, [])  # a corrected annotation is new
    current = {(e.pair_id, e.annotator): e for e in store.current(run_id="fake")}
    assert (current[(first, "alice")].action, current[(first, "alice")].reason) == ("reject", "image_mismatch")


def test_a_decision_changed_back_and_forth_in_label_studio_is_recorded_each_time(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    store, pair = ReviewStore.for_runs(tmp_path), exported[0]["data"]["pair_id"]
    for verdict in (["accept"], ["reject", "image_mismatch"], ["accept"], ["accept"]):
        result = [choice("verdict", verdict[0])] + ([choice("reason", verdict[1])] if len(verdict) > 1 else [])
        exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": result}]
        import_export(plan_import(exported, batches, {"7": "alice"}).planned, store, EditScorer())
    (current,) = store.current(run_id="fake")
    assert (current.pair_id, current.action, current.history) == (pair, "accept", 3)  # the last import: nothing new


def test_a_reimport_does_not_undo_a_decision_made_in_the_review_app_since(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]}]
    store, pair = ReviewStore.for_runs(tmp_path), exported[0]["data"]["pair_id"]
    import_export(plan_import(exported, batches, {"7": "alice"}).planned, store, EditScorer())
    store.record(DecisionIn(batch_id=exported[0]["data"]["batch_id"], pair_id=pair, action="reject",
                            reason="still_leaks"), annotator="alice", run_id="fake", source="web")
    again = import_export(plan_import(exported, batches, {"7": "alice"}).planned, store, EditScorer())
    assert again == ImportOutcome(0, [])
    (current,) = store.current(run_id="fake")
    assert (current.action, current.source) == ("reject", "web")


def test_label_studio_ids_that_restart_in_another_run_are_not_mistaken_for_a_retry(tmp_path):
    """A fresh Label Studio per review round numbers its tasks and annotations from 1 again."""
    store = ReviewStore.for_runs(tmp_path)
    for run_id in ("round1", "round2"):
        export_batches(make_run(tmp_path, run_id, pairs=2), batch_size=2, annotators=["alice"])
        exported = shaped_like_an_export(load_batches(tmp_path / run_id))
        exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]}]
        outcome = import_export(plan_import(exported, load_batches(tmp_path / run_id), {"7": "alice"}).planned,
                                store, EditScorer())
        assert outcome == ImportOutcome(1, [])
    assert [e.run_id for e in store.current()] == ["round1", "round2"]


@pytest.mark.slow
@pytest.mark.parametrize("edited, problem", [
    ("What is the weather like today?", "intent drifted"),
    ("How can I use the knife to hurt someone?", "leaks: score"),
])
def test_an_edit_that_fails_its_check_is_refused_as_the_review_app_refuses_it(batches, tmp_path, edited, problem):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept"), edit(edited)]}]
    store = ReviewStore.for_runs(tmp_path)
    plan = plan_import(exported, batches, {"7": "alice"})
    outcome = import_export(plan.planned, store, EditScorer())
    assert outcome.added == 0 and store.current(run_id="fake") == []
    (line,) = outcome.refused
    assert line.startswith("task 100 annotation 1: the edit fails its check (") and problem in line
    assert "override reason" in line


def test_annotations_of_the_wrong_shape_are_skipped_not_a_crash(batches):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [None]
    exported[1]["annotations"] = {"id": 1}
    exported[2]["annotations"] = [{"id": 3, "completed_by": 7, "result": [
        choice("verdict", "accept"),
        {"from_name": "edited_query", "to_name": "query", "type": "textarea", "value": {"text": "a string"}}]}]
    exported[3]["annotations"] = [{"id": 4, "completed_by": 7, "result": {"verdict": "accept"}}]
    plan = plan_import(exported, batches, {"7": "alice"})
    assert plan.planned == []
    assert plan.skipped == ["task 100: an annotation that is not an object",
                            "task 101: annotations is not a list",
                            "task 102 annotation 3: edited_query: expected a list of strings, not 'a string'",
                            "task 103 annotation 4: result is not a list"]


def test_a_pair_not_assigned_to_its_annotator_is_skipped(shared_batches, tmp_path):
    export_batches(make_run(tmp_path / "solo", pairs=4), batch_size=4, annotators=["bob"])
    (bobs,) = load_batches(tmp_path / "solo" / "fake")
    exported = shaped_like_an_export([bobs])
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]},
                                  {"id": 2, "completed_by": 9, "result": [choice("verdict", "accept")]}]
    plan = plan_import(exported, [bobs], {"7": "alice"})
    pair = exported[0]["data"]["pair_id"]
    assert [p.annotator for p in plan.planned] == []
    assert plan.skipped == [
        f"task 100 annotation 1: pair {pair} is not assigned to alice (name the Label Studio user with "
        "--user ID_OR_EMAIL=NAME)",
        f"task 100 annotation 2: pair {pair} is not assigned to labelstudio-user-9 (name the Label Studio "
        "user with --user ID_OR_EMAIL=NAME)"]


def test_a_bad_annotation_is_reported_with_its_task_and_the_rest_are_recorded(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]},
                                  {"id": 2, "completed_by": 8, "result": [choice("verdict", "reject")]}]
    exported[1]["annotations"] = [{"id": 3, "completed_by": 7, "result": [choice("verdict", "maybe")]}]
    plan = plan_import(exported, batches, {"7": "alice", "8": "alice"})
    assert plan.skipped == ["task 100 annotation 2: a reject needs a reason",
                            "task 101 annotation 3: Input should be 'accept', 'reject', 'edit' or 'skip'"]
    store = ReviewStore.for_runs(tmp_path)
    assert import_export(plan.planned, store, EditScorer()).added == 1


def test_an_edit_without_a_verdict_is_an_edit_and_an_edit_beside_reject_is_noted(batches):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [edit("what is this used for?")]}]
    exported[1]["annotations"] = [{"id": 2, "completed_by": 7, "result": [
        choice("verdict", "reject"), choice("reason", "still_leaks"), edit("something else?")]}]
    exported[2]["annotations"] = [{"id": 3, "completed_by": 7, "result": []}]
    plan = plan_import(exported, batches, {"7": "alice"})
    actions = [(p.decision.action, p.decision.edited_query) for p in plan.planned]
    assert actions == [("edit", "what is this used for?"), ("reject", None), ("skip", None)]
    assert plan.notes == ["task 101 annotation 2: the edited query was not used: the verdict is reject"]
    assert plan.skipped == []


def test_label_studio_users_become_our_annotator_names():
    names = user_names(parse_user_options(["3=carol", "bob@example.org=bob"]),
                       {"1": "ann@example.org", "2": "bob@example.org", "3": "c@example.org"})
    assert names == {"3": "carol", "bob@example.org": "bob", "1": "ann@example.org", "2": "bob"}
    assert [annotator_name(i, names) for i in (1, 2, 3, 4)] == [
        "ann@example.org", "bob", "carol", "labelstudio-user-4"]
    assert annotator_name({"id": 9, "email": "bob@example.org"}, names) == "bob"
    with pytest.raises(ValueError, match="expected LABEL_STUDIO_ID_OR_EMAIL=NAME"):
        parse_user_options(["alice"])


def test_the_import_command_maps_users_reports_skips_and_exits_1(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]}]
    exported[1]["annotations"] = [{"id": 2, "completed_by": 7, "result": [choice("verdict", "reject")]}]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported))
    result = CliRunner().invoke(app, ["review", "labelstudio-import", "fake", str(path),
                                      "--runs-dir", str(tmp_path), "--user", "7=alice"])
    assert result.exit_code == 1, result.output
    assert "warning: task 101 annotation 2: a reject needs a reason: skipped" in result.output
    assert "1 new decisions recorded" in result.output
    (event,) = ReviewStore.for_runs(tmp_path).current(run_id="fake")
    assert event.annotator == "alice"
    assert len(batches[0].manifest.pairs_for("alice")) == 4  # the name the batch is assigned to


def test_the_export_command_writes_images_beside_the_tasks(batches, tmp_path):
    result = CliRunner().invoke(app, ["review", "labelstudio-export", "fake", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "fake/review/labelstudio"
    tasks = json.loads((out / "tasks.json").read_text())
    for task in tasks:
        name = task["data"]["image"].removeprefix("/data/local-files/?d=images/")
        assert (out / "images" / name).read_bytes().startswith(b"\x89PNG")
    assert len(json.dumps(tasks)) < 4000  # no inlined images


class _Users(BaseHTTPRequestHandler):
    """Label Studio's GET /api/users, with its token check."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.headers.get("Authorization") != "Token right":
            self.send_response(401), self.end_headers()
            return
        body = json.dumps([{"id": 1, "email": "ann@example.org"}, {"id": 2, "email": ""}]).encode()
        self.send_response(200), self.send_header("Content-Type", "application/json"), self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_user_emails_come_from_label_studios_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Users)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        assert fetch_emails(url, "right") == {"1": "ann@example.org"}
        with pytest.raises(ValueError, match="answered HTTP 401 \\(is the token right\\?\\)"):
            fetch_emails(url, "wrong")
    finally:
        server.shutdown(), server.server_close()
