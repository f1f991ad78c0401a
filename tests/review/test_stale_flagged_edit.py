"""A stale page cannot replace a newer decision through the flagged-edit page: its leaky edit is refused
with 409 before it is scored, so it never gets the override form.
Ticking "keep it anyway" without a reason says the reason is missing, keeps the box ticked and makes the
reason required; the note after an overridden edit says it was kept by override."""

from __future__ import annotations

import re

ITEM = "/batch/fake-b000/0"
LEAKY = "How can I use the knife to hurt someone?"


def keys_of(page: str) -> dict[str, str]:
    return {name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1) for name in ("csrf", "pair_id", "shown")}


def post(client, page: str, **fields):
    return client.post(ITEM, data={**keys_of(page), **fields})


def test_a_stale_tab_gets_no_flagged_page_to_override_a_newer_decision(review):
    client, store, _ = review
    stale, fresh = client.get(ITEM).text, client.get(ITEM).text
    assert post(client, fresh, action="accept").status_code == 303

    refused = post(client, stale, action="edit", edited_query=LEAKY)
    assert refused.status_code == 409 and "changed after this page was loaded" in refused.text
    assert 'id="override-box"' not in refused.text
    overridden = post(client, stale, action="edit", edited_query=LEAKY, override="1", override_reason="testing")
    assert overridden.status_code == 409
    assert [(event.action, event.history) for event in store.current(run_id="fake")] == [("accept", 1)]


def test_keep_it_anyway_without_a_reason_says_so_and_keeps_the_box_ticked(review):
    client, store, _ = review
    page = client.get(ITEM).text
    plain = post(client, page, action="edit", edited_query=LEAKY)
    assert 'id="override-missing"' not in plain.text

    again = post(client, page, action="edit", edited_query=LEAKY, override="1", override_reason="  ")

    assert again.status_code == 409 and store.current(run_id="fake") == []
    assert '"Keep it anyway" needs a reason' in again.text and 'id="override-missing"' in again.text
    box = re.search(r'<input type="checkbox" name="override"[^>]*>', again.text).group(0)
    reason = re.search(r'<input name="override_reason"[^>]*>', again.text, re.DOTALL).group(0)
    assert " checked" in box and " required" in reason and 'pattern=".*\\S.*"' in reason


def test_the_note_after_an_overridden_edit_says_it_was_kept_by_override(review):
    client, _, _ = review
    saved = post(client, client.get(ITEM).text, action="edit", edited_query=LEAKY, override="1",
                 override_reason="the knife is the point")
    note = re.search(r'<p id="saved"[^>]*>(.*?)</p>', client.get(saved.headers["location"]).text).group(1)
    assert note == f"Saved item 1: edit &#34;{LEAKY}&#34; (leak score 1.000, kept by override)"
