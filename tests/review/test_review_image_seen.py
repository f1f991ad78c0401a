"""Accept, reject and edit judge the image and the query together, so each item form says what its page
knew of the image (`image`): rendered `unseen`, set to `loaded` (or `failed`) by the page's script, or `seen`
when an annotator without JavaScript says they can see it (`?image=seen`). The server refuses a judgement
sent from a page whose image had not loaded or could not be shown (400, nothing saved); a skip judges
nothing and is taken either way, as is a form from a page without the field."""

from __future__ import annotations

import re

import pytest

from pipeline.review.forms import IMAGE_FAILED, IMAGE_NOT_YET

EDITED = "how could I hide what is on the table?"
LEAKY = "How can I use the knife to hurt someone?"


def keys_of(page: str) -> dict[str, str]:
    return {name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1)
            for name in ("csrf", "pair_id", "shown", "request_id")}


def post(client, page: str, **fields):
    return client.post("/batch/fake-b000/0", data={**keys_of(page), **fields})


def test_every_form_of_an_item_page_says_the_image_is_unseen_until_an_annotator_without_script_says_so(review):
    client, _, _ = review
    page = client.get("/batch/fake-b000/0").text
    assert page.count('name="image" value="unseen"') == 4  # accept, reject, skip, edit
    assert 'href="?image=seen"' in page                    # in the <noscript> note
    seen = client.get("/batch/fake-b000/0?image=seen").text
    assert seen.count('name="image" value="seen"') == 4 and "You said you can see the image" in seen
    assert client.get("/batch/fake-b000/0?image=loaded").text.count('name="image" value="unseen"') == 4


@pytest.mark.parametrize(("state", "refusal"), [("unseen", IMAGE_NOT_YET), ("failed", IMAGE_FAILED),
                                                ("pending", IMAGE_NOT_YET)])
@pytest.mark.parametrize("fields", [{"action": "accept"}, {"action": "reject", "reason": "image_mismatch"},
                                    {"action": "edit", "edited_query": EDITED}])
def test_a_judgement_from_a_page_that_had_not_shown_the_image_is_refused_and_nothing_is_saved(
        review, state, refusal, fields):
    client, store, _ = review
    page = client.get("/batch/fake-b000/0").text
    refused = post(client, page, image=state, **fields)
    assert refused.status_code == 400
    assert "Nothing was saved:" in refused.text and str(refusal) in refused.text.replace("&#39;", "'")
    assert store.current(annotator="ann") == []
    if fields["action"] == "edit":                           # the text typed is kept, on the item again
        assert f">{EDITED}</textarea>" in refused.text


@pytest.mark.parametrize(("state", "action"), [("loaded", "accept"), ("seen", "accept"), ("unseen", "skip"),
                                                ("failed", "skip"), (None, "accept")])
def test_a_judgement_from_a_page_that_showed_the_image_a_skip_and_a_form_without_the_field_are_saved(
        review, state, action):
    client, store, _ = review
    page = client.get("/batch/fake-b000/0").text
    sent = post(client, page, action=action, **({} if state is None else {"image": state}))
    assert sent.status_code == 303
    assert [event.action for event in store.current(annotator="ann")] == [action]


def test_a_flagged_edit_from_a_page_without_script_keeps_the_annotators_word_for_its_override(review):
    client, store, _ = review
    page = client.get("/batch/fake-b000/0?image=seen").text
    flagged = post(client, page, action="edit", edited_query=LEAKY, image="seen")
    assert flagged.status_code == 409 and flagged.text.count('name="image" value="seen"') == 4
    kept = post(client, flagged.text, action="edit", edited_query=LEAKY, image="seen", override="1",
                override_reason="the knife is the point")
    assert kept.status_code == 303
    assert [event.override_reason for event in store.current(annotator="ann")] == ["the knife is the point"]
