"""What the item page shows is what a decision acts on. Accept on an edited pair keeps the edit;
a form from a page that showed an older decision (a second tab) is refused with 409 and nothing is
saved; the leak line says whose score it is and an edit shows its own; leaked spans are marked where
the detector read them, through spelled-out letters, look-alikes and emoji; the page after a
decision says what was saved."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from pipeline.review.forms import highlight

CLEAN = "how could I hide what is on the table?"   # leak-free, harmless, keeps "hide the knife"'s intent
LEAKY = "How can I use the knife to hurt someone?"
ITEM = "/batch/fake-b000/0"


def form_of(page: str) -> dict[str, str]:
    """The keys every decision form of the page carries."""
    return {name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1) for name in ("csrf", "pair_id", "shown")}


def post(client: TestClient, page: str, **fields):
    return client.post(ITEM, data={**form_of(page), **fields})


def decide(client: TestClient, **fields):
    return post(client, client.get(ITEM).text, **fields)


def test_accept_on_an_edited_pair_keeps_the_edit(review):
    client, store, _ = review
    assert decide(client, action="edit", edited_query=CLEAN).status_code == 303
    page = client.get(ITEM).text
    assert re.search(r'<button id="accept"[^>]*>Accept my edit<span[^>]*> <kbd>a</kbd></span></button>', page)
    assert 'name="action" value="keep"' in page
    assert post(client, page, action="keep").status_code == 303
    (event,) = store.current(run_id="fake")
    assert (event.action, event.edited_query, event.history) == ("edit", CLEAN, 2)  # saved again, not replaced
    assert re.search(r'<h2 id="query" class="query">how could I hide', client.get(ITEM).text)


def test_keeping_an_overridden_edit_keeps_its_override(review):
    client, store, _ = review
    decide(client, action="edit", edited_query=LEAKY, override="1", override_reason="the knife is the point")
    assert decide(client, action="keep").status_code == 303
    (event,) = store.current(run_id="fake")
    assert (event.action, event.edited_query, event.override_reason) == ("edit", LEAKY, "the knife is the point")


def test_the_pipeline_query_can_still_be_accepted_on_an_edited_pair(review):
    client, store, _ = review
    decide(client, action="edit", edited_query=CLEAN)
    page = client.get(ITEM).text
    assert "Accept the pipeline's query instead" in page
    assert post(client, page, action="accept").status_code == 303
    assert [event.action for event in store.current(run_id="fake")] == ["accept"]


def test_a_form_from_a_page_showing_an_older_decision_is_refused(review):
    client, store, _ = review
    first_tab, second_tab = client.get(ITEM).text, client.get(ITEM).text
    assert post(client, first_tab, action="edit", edited_query=CLEAN).status_code == 303
    for stale in ({"action": "accept"}, {"action": "reject", "reason": "low_quality"}, {"action": "keep"}):
        refused = post(client, second_tab, **stale)
        assert refused.status_code == 409 and "text/html" in refused.headers["content-type"]
        assert "changed after this page was loaded" in refused.text and "nothing was saved" in refused.text
        assert f"edit &#34;{CLEAN}&#34;" in refused.text                     # what the decision is now
    assert [(event.action, event.history) for event in store.current(run_id="fake")] == [("edit", 1)]


def test_a_decision_made_through_the_api_makes_an_open_page_stale(review):
    client, store, token = review
    page = client.get(ITEM).text
    api = client.post("/api/decisions", headers={"Authorization": f"Bearer {token}"},
                      json={"batch_id": "fake-b000", "pair_id": form_of(page)["pair_id"], "action": "skip"})
    assert api.status_code == 201
    assert post(client, page, action="accept").status_code == 409
    assert [event.action for event in store.current(run_id="fake")] == ["skip"]


def test_a_form_naming_no_shown_decision_is_refused(review):
    client, store, _ = review
    page = client.get(ITEM).text
    fields = {key: value for key, value in form_of(page).items() if key != "shown"}
    refused = client.post(ITEM, data={**fields, "action": "accept"})
    assert refused.status_code == 400 and "this form names no decision it was shown" in refused.text
    assert store.current(run_id="fake") == []


def test_the_leak_line_names_the_pipeline_query_and_an_edit_shows_its_own_score(review):
    client, store, _ = review
    decide(client, action="edit", edited_query=LEAKY, override="1", override_reason="the knife is the point")
    (event,) = store.current(run_id="fake")
    page = client.get(ITEM).text
    assert "<p id=\"leak\">Pipeline query's leak score <strong>0.100</strong>" in page
    edit_line = re.search(r'<p id="edit-leak">(.*?)</p>', page, re.DOTALL).group(1)
    assert f"Your edit's leak score <strong id=\"new-score\">{event.new_leak_score:.3f}</strong>" in edit_line
    assert "leaked spans: knife, hurt" in edit_line and "harm check drop" in edit_line


@pytest.mark.parametrize("typed", ["k-n-i-f-e", "kn\u0456fe", "\uff4b\uff4e\uff49\uff46\uff45", "\U0001f52a"])
def test_a_flagged_edit_marks_the_name_as_typed(review, typed):
    client, _, _ = review
    flagged = decide(client, action="edit", edited_query=f"How can I use the {typed} to hurt someone?")
    assert flagged.status_code == 409
    marked = re.search(r'<q id="flagged-query">(.*?)</q>', flagged.text).group(1)
    assert marked == f"How can I use the <mark>{typed}</mark> to <mark>hurt</mark> someone?"


def test_highlight_escapes_the_text_and_marks_only_the_spans():
    assert highlight("<b>k n i f e</b> & a knife", ["knife"]) == (
        "&lt;b&gt;<mark>k n i f e</mark>&lt;/b&gt; &amp; a <mark>knife</mark>")
    assert highlight("nothing here", ["knife", " "]) == "nothing here"


def test_the_page_after_a_decision_says_what_was_saved(review):
    client, _, _ = review
    moved = decide(client, action="reject", reason="low_quality")
    page = client.get(moved.headers["location"]).text
    assert '<p id="saved" role="status" aria-live="polite">Saved item 1: reject (low_quality)</p>' in page
    assert '<p id="saved" role="status" aria-live="polite"></p>' in client.get("/batch/fake-b000/1").text
    for index in (1, 2):
        last = client.post(f"/batch/fake-b000/{index}", data={**form_of(client.get(f"/batch/fake-b000/{index}").text),
                                                              "action": "skip"})
    assert last.headers["location"].startswith("/batch/fake-b000/done?saved=")
    assert "Saved item 3: skip</p>" in client.get(last.headers["location"]).text
