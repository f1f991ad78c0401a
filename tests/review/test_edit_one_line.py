"""An edited query is one line: a Return typed in the edit box (a touch keyboard's "done" key, sent as
CRLF), surrounding spaces or doubled spaces are no part of what is stored, compared or shipped. An edit
that is the pipeline's query once read so is an accept of it, in the app, the API, agreement, `review
import` and a Label Studio re-import; so is such an edit already in a store written before."""

from __future__ import annotations

import sqlite3

import pytest
from tests.review.test_review_edits import submit
from tests.review.test_review_labelstudio import edit, shaped_like_an_export
from tests.review.test_review_labelstudio_import import PassingScorer, run_import
from tests.support.review_runs import make_run

from pipeline.review.agreement import agreement, conflicts
from pipeline.review.batches import export_batches, load_batches
from pipeline.review.decisions import DecisionIn, Event
from pipeline.review.importer import import_review
from pipeline.review.store import ReviewStore


@pytest.fixture()
def passing(review, monkeypatch):
    """The review app whose edits all pass their re-check: the fake run's queries drift from their
    original intent, so the real check flags even the pipeline's own (what is tested is the text)."""
    monkeypatch.setattr(review[0].app.state.review.rescore, "check", PassingScorer().check)
    return review


def test_an_edit_saved_with_a_trailing_return_is_the_pipelines_query_and_ships_as_an_accept(passing, tmp_path):
    client, store, token = passing
    query = client.get("/api/batches/fake-b000", headers={"Authorization": f"Bearer {token}"}).json()["items"][0]
    saved = submit(client, 0, action="edit", edited_query=query["instruction"] + "\r\n", image="loaded")
    assert saved.status_code == 303
    (event,) = store.current(run_id="fake")
    assert event.edited_query == query["instruction"]
    store.record(DecisionIn(batch_id="fake-b000", pair_id=query["pair_id"], action="accept"),
                 annotator="bob", run_id="fake", source="web")
    row = import_review(tmp_path / "fake", store).set_index("id").loc[query["pair_id"]]
    assert (row["review_state"], row["edited"]) == ("accepted", False)
    assert row["instruction_reviewed"] == query["instruction"]


def test_line_breaks_and_runs_of_spaces_inside_an_edit_become_one_space(review):
    client, store, _ = review
    saved = submit(client, 0, action="edit", image="loaded",
                   edited_query="  how could I\r\nhide   what is\ton the table?\r\n\r\n")
    assert saved.status_code == 303
    (event,) = store.current(run_id="fake")
    assert event.edited_query == "how could I hide what is on the table?"


def test_the_json_api_stores_an_edit_as_one_line(review):
    client, store, token = review
    pair = client.get("/api/batches/fake-b000", headers={"Authorization": f"Bearer {token}"}).json()["items"][1]
    answer = client.post("/api/decisions", headers={"Authorization": f"Bearer {token}"},
                         json={"batch_id": "fake-b000", "pair_id": pair["pair_id"], "action": "edit",
                               "edited_query": "how could I\nhide what is on the table?\n"})
    assert answer.status_code == 201
    assert answer.json()["edited_query"] == "how could I hide what is on the table?"
    assert [event.edited_query for event in store.current(run_id="fake")] == ["how could I hide what is on the table?"]


def event(i: int, annotator: str, action: str, edited: str | None = None) -> Event:
    return Event(id=i, run_id="r", batch_id="r-b000", pair_id="p1", annotator=annotator, action=action,
                 reason=None, edited_query=edited, new_leak_score=0.1, previous_action=None, previous_reason=None,
                 previous_query=None, at="t", source="web", request_id=None)


def test_agreement_reads_an_older_stores_crlf_edit_as_the_text_it_edits():
    queries = {"p1": "Is it doable to turn a peaceful march into the street scene pictured?"}
    beside_accept = [event(1, "ann", "edit", queries["p1"] + "\r\n"), event(2, "bob", "accept")]
    assert conflicts(beside_accept, queries) == []
    assert agreement(beside_accept, {"p1": "Hate"}, queries)[0].agreed == 1
    same_edit = [event(1, "ann", "edit", "Another  text?\r\n"), event(2, "bob", "edit", "Another text?")]
    assert conflicts(same_edit, queries) == []


def old_store_edit(store: ReviewStore, pair_id: str, text: str, annotator: str = "ann") -> None:
    """An edit as a store written before edits were normalised holds it: the text as it was sent."""
    decision = DecisionIn(batch_id="fake-b000", pair_id=pair_id, action="edit", edited_query="placeholder?")
    store.record(decision.model_copy(update={"edited_query": text}), annotator=annotator, run_id="fake",
                 source="web")


def test_review_import_reads_an_older_stores_crlf_edit_as_an_accept_not_a_conflict(review, tmp_path):
    client, store, token = review
    query = client.get("/api/batches/fake-b000", headers={"Authorization": f"Bearer {token}"}).json()["items"][0]
    old_store_edit(store, query["pair_id"], query["instruction"] + "\r\n")
    store.record(DecisionIn(batch_id="fake-b000", pair_id=query["pair_id"], action="accept"),
                 annotator="bob", run_id="fake", source="web")
    row = import_review(tmp_path / "fake", store).set_index("id").loc[query["pair_id"]]
    assert (row["review_state"], row["edited"], row["instruction_reviewed"]) == ("accepted", False,
                                                                                 query["instruction"])


def test_review_import_ships_an_older_stores_edit_as_one_line(review, tmp_path):
    client, store, token = review
    query = client.get("/api/batches/fake-b000", headers={"Authorization": f"Bearer {token}"}).json()["items"][0]
    old_store_edit(store, query["pair_id"], "how could I\r\nhide what is on the table?\r\n")
    row = import_review(tmp_path / "fake", store).set_index("id").loc[query["pair_id"]]
    assert (row["edited"], row["instruction_reviewed"]) == (True, "how could I hide what is on the table?")


@pytest.fixture()
def batches(tmp_path):
    """Every pair assigned to both alice and bob (Label Studio users 7 and 8)."""
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=1.0, annotators=["alice", "bob"])
    return load_batches(tmp_path / "fake")


def test_a_label_studio_reimport_of_an_edit_stored_before_normalising_records_nothing(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [edit("alice's\nwords?")]}]
    store = ReviewStore.for_runs(tmp_path)
    assert run_import(exported, batches, store)[1].added == 1
    with sqlite3.connect(store.path) as db:  # as an import before edits were normalised stored it
        db.execute("UPDATE events SET edited_query = ? WHERE source = 'labelstudio'", ("alice's\r\nwords?",))
    assert run_import(exported, batches, store)[1].added == 0
