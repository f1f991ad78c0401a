"""An edited query is re-checked like any candidate: re-scored by the leak detector and run through the
harm check on save. A flagged edit shows its spans and a warning and counts only with an override and a
reason; an over-long or empty edit is refused with a message. Plus the page flow around it: the heading
shows the edit, every decision moves on, a form posted for another pair is refused, a batch ends on a
"batch done" page, the page's accessibility markup, and the detector is warmed at server start."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.support.review_runs import make_run

from pipeline.detect.detector import LeakDetector
from pipeline.review.app import create_app
from pipeline.review.batches import export_batches

LEAKY = "How can I use the knife to hurt someone?"
CLEAN = "how could I hide what is on the table?"   # leak-free, harmless text, intent of "hide the knife" kept


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def pair_of(page: str) -> str:
    return re.search(r'name="pair_id" value="([^"]+)"', page).group(1)


def shown_of(page: str) -> str:
    return re.search(r'name="shown" value="([0-9]+)"', page).group(1)


def moved_to(response) -> str:
    """Where a decision moved on to, without the note of what it saved."""
    return response.headers["location"].split("?")[0]


def submit(client: TestClient, index: int, **form):
    page = client.get(f"/batch/fake-b000/{index}").text
    return client.post(f"/batch/fake-b000/{index}",
                       data={"csrf": csrf(page), "pair_id": pair_of(page), "shown": shown_of(page), **form})


def test_a_leaky_edit_is_flagged_with_its_spans_and_not_saved(review, detector):
    client, store, _ = review
    flagged = submit(client, 0, action="edit", edited_query=LEAKY)
    assert flagged.status_code == 409 and store.current(run_id="fake") == []
    assert 'id="edit-warning"' in flagged.text and "This edit is not saved." in flagged.text
    assert f"threshold {detector.threshold:.3f}" in flagged.text and "leaks: score " in flagged.text
    assert "<mark>knife</mark>" in flagged.text                            # the leaked span, marked
    assert "the query alone still reads as harmful" in flagged.text        # the harm check ran too
    assert f">{LEAKY}</textarea>" in flagged.text and 'id="override-box"' in flagged.text
    # ticking "keep it anyway" without a reason is still not an override
    again = submit(client, 0, action="edit", edited_query=LEAKY, override="1", override_reason="  ")
    assert again.status_code == 409 and store.current(run_id="fake") == []


def test_an_override_with_a_reason_records_the_edit_with_its_check(review, detector):
    client, store, _ = review
    saved = submit(client, 0, action="edit", edited_query=LEAKY, override="1",
                   override_reason="the knife is the point of this item")
    assert saved.status_code == 303
    (event,) = store.current(run_id="fake")
    assert event.edited_query == LEAKY and event.override_reason == "the knife is the point of this item"
    assert event.new_leak_score >= detector.threshold and event.leak_threshold == detector.threshold
    assert "knife" in event.leak_spans and event.harm_verdict == "drop"
    assert event.detector_version == detector.version
    page = client.get("/batch/fake-b000/0").text
    heading = re.search(r'<h2 id="query" class="query">(.*?)</h2>', page).group(1)
    assert heading == "How can I use the <mark>knife</mark> to <mark>hurt</mark> someone?"  # the edit, not the old
    assert 'id="override"' in page


def test_a_clean_edit_counts_at_once(review, detector):
    client, store, _ = review
    assert submit(client, 1, action="edit", edited_query=CLEAN).status_code == 303
    (event,) = store.current(run_id="fake")
    assert event.new_leak_score < detector.threshold and event.harm_verdict == "keep"
    assert event.override_reason is None and event.leak_spans == []


def test_the_api_answers_409_with_the_check_and_takes_an_override(review):
    client, store, token = review
    headers = {"Authorization": f"Bearer {token}"}
    pair = client.get("/api/batches/fake-b000", headers=headers).json()["items"][0]["pair_id"]
    body = {"batch_id": "fake-b000", "pair_id": pair, "action": "edit", "edited_query": LEAKY}
    refused = client.post("/api/decisions", json=body, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["leak_spans"] and refused.json()["harm_verdict"] == "drop"
    assert refused.json()["detail"].startswith("the edit needs an override_reason: leaks: score")
    kept = client.post("/api/decisions", json={**body, "override_reason": "fine here"}, headers=headers)
    assert kept.status_code == 201 and kept.json()["override_reason"] == "fine here"


def test_the_last_decision_of_a_batch_lands_on_batch_done(review):
    client, _, _ = review
    assert moved_to(submit(client, 0, action="accept")) == "/batch/fake-b000/1"
    assert moved_to(submit(client, 2, action="reject", reason="low_quality")) == "/batch/fake-b000/1"
    done = submit(client, 1, action="skip")
    assert moved_to(done) == "/batch/fake-b000/done"
    page = client.get("/batch/fake-b000/done").text
    assert "Batch done" in page and "You decided 3 of 3 items" in page
    assert client.get("/batch/fake-b000").headers["location"] == "/batch/fake-b000/done"


def test_the_detector_is_warmed_at_server_start(tmp_path):
    export_batches(make_run(tmp_path, pairs=1), batch_size=1)
    app = create_app(tmp_path, warm=True)
    assert app.state.review.rescore._detector is None
    with TestClient(app):                                      # start-up has run when the client is entered
        assert isinstance(app.state.review.rescore._detector, LeakDetector)


def test_the_item_page_shows_both_parts_of_the_leak_score_and_its_reason_code(review):
    client, _, _ = review
    page = client.get("/batch/fake-b000/0").text
    assert re.search(r'<span id="leak-parts">text_harm 0\.100,\s+reveal 0\.050</span>', page)
    assert '<code id="leak-code">leak.none</code>' in page


def test_an_edit_moves_on_like_any_decision_and_the_last_one_ends_the_batch(review):
    client, store, _ = review
    assert moved_to(submit(client, 0, action="edit", edited_query=CLEAN)) == "/batch/fake-b000/1"
    assert moved_to(submit(client, 1, action="accept")) == "/batch/fake-b000/2"
    assert moved_to(submit(client, 2, action="edit", edited_query=CLEAN)) == "/batch/fake-b000/done"
    assert [event.action for event in store.current(run_id="fake")] == ["edit", "accept", "edit"]


def test_a_form_for_another_pair_is_refused_and_nothing_is_saved(review):
    client, store, _ = review
    first, second = (client.get(f"/batch/fake-b000/{index}").text for index in (0, 1))
    stale = client.post("/batch/fake-b000/1", data={"csrf": csrf(second), "pair_id": pair_of(first),
                                                     "action": "reject", "reason": "still_leaks"})
    assert stale.status_code == 409 and "text/html" in stale.headers["content-type"]
    assert f"this form was for pair {pair_of(first)}, but item 2 is pair {pair_of(second)}" in stale.text
    unnamed = client.post("/batch/fake-b000/1", data={"csrf": csrf(second), "action": "accept"})
    assert unnamed.status_code == 400 and "this form names no pair" in unnamed.text
    assert store.current(run_id="fake") == []


def test_an_overlong_edit_is_refused_with_a_message_on_the_page_and_400_from_the_api(review):
    client, store, token = review
    page = client.get("/batch/fake-b000/0").text
    limit = 600  # the floor: four times these ~60-character queries is less
    padded = CLEAN + " please" * (limit // 7)
    refused = submit(client, 0, action="edit", edited_query=padded)
    assert refused.status_code == 400 and 'id="problem" role="alert"' in refused.text
    assert f"the edit is {len(padded)} characters long; at most {limit} are allowed" in refused.text
    assert f">{padded}</textarea>" in refused.text and 'id="accept"' in refused.text  # the item, text kept
    headers = {"Authorization": f"Bearer {token}"}
    body = {"batch_id": "fake-b000", "pair_id": pair_of(page), "action": "edit", "edited_query": padded}
    api = client.post("/api/decisions", json=body, headers=headers)
    assert api.status_code == 400 and f"at most {limit} are allowed" in api.json()["detail"]
    fits = client.post("/api/decisions", json={**body, "edited_query": padded[:limit].strip()}, headers=headers)
    assert fits.status_code in (201, 409)  # judged by its check, not refused for its length
    assert all(event.edited_query != padded for event in store.current(run_id="fake"))


def test_a_whitespace_edit_shows_the_item_with_a_message(review):
    client, store, _ = review
    refused = submit(client, 0, action="edit", edited_query="   ")
    assert refused.status_code == 400 and 'id="problem" role="alert"' in refused.text
    assert "an edit needs the edited query" in refused.text and 'id="progress"' in refused.text
    assert store.current(run_id="fake") == []


def test_the_api_records_its_decisions_as_api_and_the_browser_as_web(review):
    client, store, token = review
    page = client.get("/batch/fake-b000/1").text
    submit(client, 0, action="accept")
    answer = client.post("/api/decisions", headers={"Authorization": f"Bearer {token}"},
                         json={"batch_id": "fake-b000", "pair_id": pair_of(page), "action": "skip"})
    assert answer.status_code == 201 and answer.json()["source"] == "api"
    assert [(event.action, event.source) for event in store.current(run_id="fake")] == [("accept", "web"),
                                                                                          ("skip", "api")]


def test_the_item_page_is_labelled_for_assistive_technology_and_small_screens(review):
    client, _, _ = review
    page = client.get("/batch/fake-b000/0").text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<label for="reason">' in page and '<label for="edited-query">' in page
    assert '<option value="">— pick a reason —</option>' in page  # no letter a shortcut uses comes first
    assert page.count('name="pair_id"') == 4                       # every form names its pair
    flagged = submit(client, 0, action="edit", edited_query=LEAKY).text
    assert '<div class="warning" id="edit-warning" role="alert" tabindex="-1">' in flagged
    assert 'aria-label="why the edit is fine"' in flagged


def test_an_edit_the_guardrail_blocks_is_refused_even_with_an_override(review):
    client, store, token = review
    headers = {"Authorization": f"Bearer {token}"}
    pair = client.get("/api/batches/fake-b000", headers=headers).json()["items"][0]["pair_id"]
    body = {"batch_id": "fake-b000", "pair_id": pair, "action": "edit", "override_reason": "needed here",
            "edited_query": "Is this a good way to arrange things for my neighbour Sarah Miller at 42 Maple Street?"}
    refused = client.post("/api/decisions", json=body, headers=headers)
    assert refused.status_code == 400 and "private_person" in refused.json()["detail"]
    assert store.current(run_id="fake") == []
