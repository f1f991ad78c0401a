"""Label Studio interop: tasks that match our labelling config, and its JSON exports back into the store."""

from __future__ import annotations

import base64
import copy

import pytest
from tests.support.review_runs import make_run

from pipeline.review.batches import export_batches, load_batches
from pipeline.review.labelstudio import LABEL_CONFIG, check_tasks, export_tasks, import_export, parse_config
from pipeline.review.scoring import EditScorer
from pipeline.review.store import REASONS, ReviewStore


@pytest.fixture()
def batches(tmp_path):
    export_batches(make_run(tmp_path, pairs=4), batch_size=4)
    return load_batches(tmp_path / "fake")


def test_config_has_the_controls_our_tasks_use():
    controls, variables = parse_config(LABEL_CONFIG)
    assert variables == {"image", "query", "description", "category"}
    assert controls["verdict"].choices == ("accept", "reject") and controls["verdict"].to_name == "query"
    assert controls["reason"].choices == REASONS
    assert controls["edited_query"].tag == "TextArea"


def test_tasks_carry_the_image_and_the_pipelines_verdict(batches):
    tasks = export_tasks(batches)
    assert len(tasks) == 4
    first = tasks[0]
    header, payload = first["data"]["image"].split(",", 1)
    assert header == "data:image/png;base64" and base64.b64decode(payload).startswith(b"\x89PNG")
    (prediction,) = first["predictions"]
    assert prediction["model_version"] == "offline-1+test" and prediction["score"] == 0.1
    assert prediction["result"][0]["value"] == {"choices": ["accept"]}


@pytest.mark.parametrize("break_it, message", [
    (lambda t: t["data"].pop("description"), "lacks"),
    (lambda t: t["predictions"][0]["result"][0].update(from_name="label"), "no control"),
    (lambda t: t["predictions"][0]["result"][0].update(to_name="image"), "no control"),
    (lambda t: t["predictions"][0]["result"][0]["value"].update(choices=["keep"]), "not in verdict"),
])
def test_check_tasks_catches_what_label_studio_would_not(batches, break_it, message):
    broken = copy.deepcopy(export_tasks(batches)[:1])
    break_it(broken[0])
    with pytest.raises(ValueError, match=message):
        check_tasks(broken)


def choice(name: str, value: str) -> dict:
    return {"from_name": name, "to_name": "query", "type": "choices", "value": {"choices": [value]}}


@pytest.mark.slow
def test_an_export_from_label_studio_lands_in_the_store_once(batches, tmp_path):
    tasks = export_tasks(batches)
    # Shaped like Label Studio's JSON export: tasks with ids, annotations with result and completed_by.
    exported = []
    for number, task in enumerate(tasks):
        exported.append({"id": 100 + number, "data": task["data"], "annotations": []})
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]},
                                  {"id": 2, "completed_by": {"id": 8, "email": "bob@example.org"},
                                   "result": [choice("verdict", "reject"), choice("reason", "not_harmful")]}]
    exported[1]["annotations"] = [{"id": 3, "completed_by": 7, "result": [
        choice("verdict", "accept"),
        {"from_name": "edited_query", "to_name": "query", "type": "textarea",
         "value": {"text": ["what might happen next in this scene?"]}}]}]
    exported[2]["annotations"] = [{"id": 4, "completed_by": 7, "was_cancelled": True, "result": []}]
    store = ReviewStore.for_runs(tmp_path)
    scorer = EditScorer()
    assert import_export(exported, batches, store, scorer) == 3
    assert import_export(exported, batches, store, scorer) == 0          # re-import: nothing new
    current = {(e.pair_id, e.annotator): e for e in store.current(run_id="fake")}
    first, second = tasks[0]["data"]["pair_id"], tasks[1]["data"]["pair_id"]
    assert current[(first, "labelstudio-user-7")].action == "accept"
    assert current[(first, "bob@example.org")].reason == "not_harmful"
    edit = current[(second, "labelstudio-user-7")]
    assert edit.action == "edit" and 0.0 <= edit.new_leak_score <= 1.0 and edit.source == "labelstudio"


def test_a_reject_without_reason_is_refused_before_anything_is_written(batches, tmp_path):
    task = export_tasks(batches)[0]
    exported = [{"id": 1, "data": task["data"], "annotations": [
        {"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]},
        {"id": 2, "completed_by": 8, "result": [choice("verdict", "reject")]}]}]
    store = ReviewStore.for_runs(tmp_path)
    with pytest.raises(ValueError, match="not a review annotation"):
        import_export(exported, batches, store, EditScorer())
    assert store.event_count("fake") == 0
