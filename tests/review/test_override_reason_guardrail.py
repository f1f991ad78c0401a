"""An override reason ships with its pair (the release's `override_reason`), so the hard block reads it
as it reads an edit, beside the pair's texts: the review app and its API refuse a blocked reason with
one message and save nothing, and a release and `verify` read the column with the row's other texts."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from tests.review.test_edit_guardrail import StubScorer, item
from tests.support.release_runs import pair_row
from tests.support.review_runs import make_run

from pipeline.guardrails import SHIPPED_TEXT_COLUMNS
from pipeline.release.make import guardrail_pass
from pipeline.release.verify import guardrail_problems
from pipeline.review.app import create_app
from pipeline.review.batches import export_batches
from pipeline.review.scoring import edit_refusal
from pipeline.review.store import ReviewStore

PHONE_REASON = "Her number is 555-867-5309"
CLEAN_EDIT = "What would look good on her for the shoot?"


def test_a_blocked_override_reason_is_refused_with_its_rule():
    refusal = edit_refusal(item(), CLEAN_EDIT, PHONE_REASON)
    assert refusal.startswith("the override reason is blocked by the guardrail (private_person:phone:")
    assert "555" not in refusal  # the message masks what matched


def test_an_override_reason_is_read_beside_the_pairs_texts():
    minor_pair = item(image_description="A teenage girl at a photo studio.")
    assert "(sexual_minors:" in edit_refusal(minor_pair, CLEAN_EDIT, "lingerie is what the shoot is about")


def test_a_clean_override_reason_is_not_refused():
    assert edit_refusal(item(), CLEAN_EDIT, "the leak score is a false alarm on 'shoot'") is None


@pytest.fixture()
def app(tmp_path):
    """(client, store, ann's token) over a three-pair batch, scored by a detector that flags nothing."""
    export_batches(make_run(tmp_path, pairs=3), batch_size=3)
    store = ReviewStore.for_runs(tmp_path)
    token = store.add_token("ann", ["fake-b000"])
    client = TestClient(create_app(tmp_path, store, detector=StubScorer().detector()), follow_redirects=False)
    assert client.get(f"/?token={token}").status_code == 303
    return client, store, token


def test_the_api_refuses_a_blocked_override_reason_and_saves_nothing(app):
    client, store, token = app
    headers = {"Authorization": f"Bearer {token}"}
    pair = client.get("/api/batches/fake-b000", headers=headers).json()["items"][0]["pair_id"]
    body = {"batch_id": "fake-b000", "pair_id": pair, "action": "edit", "edited_query": CLEAN_EDIT,
            "override_reason": PHONE_REASON}
    refused = client.post("/api/decisions", json=body, headers=headers)
    assert refused.status_code == 400
    assert "override reason is blocked by the guardrail (private_person:phone" in refused.json()["detail"]
    assert store.current(run_id="fake") == []


def test_the_page_refuses_a_blocked_override_reason_and_saves_nothing(app):
    client, store, _ = app
    page = client.get("/batch/fake-b000/0").text
    fields = {name: re.search(rf'name="{name}" value="([^"]+)"', page).group(1)
              for name in ("csrf", "pair_id", "shown")}
    refused = client.post("/batch/fake-b000/0", data={**fields, "action": "edit", "edited_query": CLEAN_EDIT,
                                                      "override": "1", "override_reason": PHONE_REASON})
    assert refused.status_code == 400 and "override reason is blocked by the guardrail" in refused.text
    assert store.current(run_id="fake") == []


def test_override_reason_is_a_shipped_text():
    assert "override_reason" in SHIPPED_TEXT_COLUMNS


def test_a_release_drops_and_verify_names_a_row_whose_override_reason_is_blocked():
    clean, overridden = pair_row(0, "r1"), {**pair_row(1, "r1"), "override_reason": PHONE_REASON}
    kept, blocks = guardrail_pass([clean, overridden])
    assert kept == [clean]
    assert [(d.item_id, d.code) for d in blocks] == [(overridden["id"], "guardrail.private_person:phone")]
    (problem,) = guardrail_problems([clean, overridden])
    assert problem.startswith(f"row {overridden['id']}: blocked by the guardrail (private_person:phone:")
