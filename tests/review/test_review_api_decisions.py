"""The review app's JSON API, through its test client (mutation round 3): a pair assigned to another
annotator is refused, an override reason is kept only where it overrode a failed check, and the
progress counts the skips. Edits are checked by a scripted scorer: no MiniLM, no server."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.review_runs import make_run

from pipeline.review.app import create_app
from pipeline.review.batches import export_batches, load_batches
from pipeline.review.scoring import EditCheck
from pipeline.review.store import ReviewStore

BATCH = "fake-b000"


class PassingScorer:
    def check(self, item, query):
        return EditCheck(score=0.1, threshold=0.5, spans=(), detector_version="test", harm_verdict="keep",
                         harm_reason="ok", intent_similarity=0.9)


@pytest.fixture()
def api(tmp_path):
    """(client, store, bob's headers, bob's pairs, the others): ann has all four pairs, bob the first two."""
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=0.5, annotators=["ann", "bob"])
    (batch,) = load_batches(tmp_path / "fake")
    store = ReviewStore.for_runs(tmp_path)
    client = TestClient(create_app(tmp_path, store))
    client.app.state.review.rescore = PassingScorer()
    headers = {"Authorization": f"Bearer {store.add_token('bob', [BATCH])}"}
    bobs = batch.manifest.pairs_for("bob")
    return client, store, headers, bobs, sorted(set(batch.manifest.pair_ids) - set(bobs))


def decide(client, headers, pair_id, **fields):
    return client.post("/api/decisions", headers=headers, json={"batch_id": BATCH, "pair_id": pair_id, **fields})


def test_a_pair_assigned_to_another_annotator_is_refused(api):
    client, store, headers, _, others = api
    theirs = others[0]

    refused = decide(client, headers, theirs, action="accept")

    assert refused.status_code == 403 and f"pair {theirs} is not assigned to bob" in refused.text
    assert store.current(run_id="fake") == []


def test_an_override_reason_is_dropped_from_an_edit_that_passes_its_check(api):
    client, store, headers, mine, _ = api

    saved = decide(client, headers, sorted(mine)[0], action="edit", edited_query="what is this tool for?",
                   override_reason="it is fine")

    assert saved.status_code == 201 and saved.json()["override_reason"] is None
    (event,) = store.current(run_id="fake")
    assert (event.action, event.override_reason, event.harm_verdict) == ("edit", None, "keep")


def test_the_progress_counts_skips_among_the_decided(api):
    client, _, headers, mine, _ = api
    first, second = sorted(mine)[:2]
    assert decide(client, headers, first, action="accept").status_code == 201
    assert decide(client, headers, second, action="skip").status_code == 201

    (progress,) = client.get("/api/batches", headers=headers).json()

    assert {key: progress[key] for key in ("decided", "skipped", "total")} == {
        "decided": 2, "skipped": 1, "total": len(mine)}
