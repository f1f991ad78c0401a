"""A decision form sent again after its answer was lost (Chromium resends a POST on its own when the
connection is reset after the server answered) is the same request: recorded once and answered like the
first, with the redirect to the next pair that says what was saved. Every item page gives its forms one
request id; a form from another page (another id) on a pair whose decision changed meanwhile still gets
409, which says what is saved now and links to the item by GET instead of advising a reload (a reload
would post the refused form again)."""

from __future__ import annotations

import re

ITEM = "/batch/fake-b000/0"
CLEAN = "how could I hide what is on the table?"  # leak-free, harmless: saved without an override
KEYS = ("csrf", "pair_id", "shown", "request_id")


def keys_of(page: str) -> dict[str, str]:
    return {name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1) for name in KEYS}


def post(client, page: str, **fields):
    return client.post(ITEM, data={**keys_of(page), **fields})


def saved_note(client, location: str) -> str:
    return re.search(r'<p id="saved"[^>]*>(.*?)</p>', client.get(location).text).group(1)


def test_every_form_of_an_item_page_carries_the_page_request_id_and_each_page_its_own(review):
    client, _, _ = review
    first, second = client.get(ITEM).text, client.get(ITEM).text
    ids = set(re.findall(r'name="request_id" value="([^"]*)"', first))
    assert len(ids) == 1 and len(re.findall(r'name="request_id"', first)) == first.count('<form method="post"')
    assert keys_of(first)["request_id"] != keys_of(second)["request_id"]


def test_an_accept_sent_again_is_recorded_once_and_answered_like_the_first(review):
    client, store, _ = review
    page = client.get(ITEM).text
    first = post(client, page, action="accept")
    again = post(client, page, action="accept")   # the browser's resend: the first answer never arrived
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"] == f"/batch/fake-b000/1?saved={store.current()[0].id}"
    assert saved_note(client, again.headers["location"]) == "Saved item 1: accept"
    assert [(event.action, event.history) for event in store.current(run_id="fake")] == [("accept", 1)]
    assert store.event_count("fake") == 1


def test_an_edit_sent_again_is_recorded_once(review):
    client, store, _ = review
    page = client.get(ITEM).text
    first = post(client, page, action="edit", edited_query=CLEAN)
    again = post(client, page, action="edit", edited_query=CLEAN)
    assert (first.status_code, again.status_code) == (303, 303)
    assert again.headers["location"] == first.headers["location"]
    assert saved_note(client, again.headers["location"]) == f'Saved item 1: edit &#34;{CLEAN}&#34; (leak score ' \
        f'{store.current()[0].new_leak_score:.3f})'
    assert store.event_count("fake") == 1


def refusal_names_what_is_saved_and_links_to_the_item(refused, saved: str, by_this_page: bool = False) -> None:
    assert refused.status_code == 409 and "text/html" in refused.headers["content-type"]
    if by_this_page:  # the page's own first decision was saved: it must not read as someone else's
        assert "this page&#39;s earlier decision" in refused.text and "was saved; this one was not" in refused.text
        assert "nothing was saved" not in refused.text
    else:
        assert "changed after this page was loaded" in refused.text and "nothing was saved" in refused.text
    assert f"Saved now: {saved} (saved " in refused.text
    assert re.search(rf'<a id="item-again" href="{ITEM}">', refused.text)
    assert "reload the page" not in refused.text


def test_another_decision_from_the_same_page_after_the_first_was_saved_is_refused_naming_it(review):
    client, store, _ = review
    page = client.get(ITEM).text
    assert post(client, page, action="accept").status_code == 303
    refused = post(client, page, action="reject", reason="low_quality")  # same request id, another decision
    refusal_names_what_is_saved_and_links_to_the_item(refused, "accept", by_this_page=True)
    assert [event.action for event in store.current(run_id="fake")] == ["accept"]


def test_a_form_from_another_page_on_a_changed_pair_still_gets_409_with_a_link_to_the_item(review):
    client, store, _ = review
    stale, fresh = client.get(ITEM).text, client.get(ITEM).text
    assert post(client, fresh, action="skip").status_code == 303
    refused = post(client, stale, action="skip")  # the same decision, but from another page: not a resend
    refusal_names_what_is_saved_and_links_to_the_item(refused, "skip")
    assert client.get(ITEM).status_code == 200
    assert store.event_count("fake") == 1


def test_a_malformed_request_id_is_refused_and_a_form_without_one_still_works(review):
    client, store, _ = review
    page = client.get(ITEM).text
    bad = client.post(ITEM, data={**keys_of(page), "request_id": "x/../y", "action": "accept"})
    assert bad.status_code == 400 and "request id is malformed" in bad.text
    older = {key: value for key, value in keys_of(page).items() if key != "request_id"}  # a page from before
    assert client.post(ITEM, data={**older, "action": "accept"}).status_code == 303
    assert [event.request_id for event in store.current(run_id="fake")] == [None]
