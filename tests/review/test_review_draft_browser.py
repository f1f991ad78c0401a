"""An edit typed but not saved (the send failed, the annotator went Back) is kept per pair in the tab's
sessionStorage and put back, with a note, when the item opens again; once a decision is saved on the
pair (the edit itself, or another) it is not put back. In a real headless Chromium; skipped where the
browser is missing, as in test_review_browser.py."""

from __future__ import annotations

import pytest
from tests.support.browser import CHROMIUM, require_browser
from tests.support.review_runs import make_run, serving

from pipeline.review.app import create_app
from pipeline.review.batches import export_batches
from pipeline.review.store import ReviewStore

pytestmark = pytest.mark.slow

require_browser()

from playwright import sync_api  # noqa: E402  (only once the browser is known to be there)

expect = sync_api.expect
EDITED = "how could I hide what is on the table?"  # leak-free, harmless, keeps "hide the knife"'s intent
PUT_BACK = "Your edit from before, put back: not saved yet."


def test_an_unsaved_edit_is_put_back_when_the_item_opens_again_and_dropped_once_a_decision_is_saved(
        tmp_path, detector):
    export_batches(make_run(tmp_path, pairs=3), batch_size=3)
    store = ReviewStore.for_runs(tmp_path)
    token = store.add_token("ann", ["fake-b000"])
    with serving(create_app(tmp_path, store, detector=detector)) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{url}/batch/fake-b000/0?token={token}")
            box, note = page.locator("#edited-query"), page.locator("#draft-note")
            expect(note).to_be_hidden()
            page.keyboard.press("e")
            page.fill("#edited-query", EDITED)
            page.goto(f"{url}/")                                  # left without saving
            page.goto(f"{url}/batch/fake-b000/0")
            expect(box).to_have_value(EDITED)
            expect(note).to_have_text(PUT_BACK)
            expect(page.locator("#edit-box")).to_have_attribute("open", "")
            expect(box).to_have_attribute("aria-describedby", "draft-note")
            page.focus("#edited-query")
            page.keyboard.press("Control+Enter")                  # saved: the next pair
            expect(page.locator("#progress")).to_contain_text("item 2 of 3")

            page.keyboard.press("e")                              # item 2: typed, left, then accepted
            page.fill("#edited-query", "an edit that is never saved")
            page.reload()
            expect(box).to_have_value("an edit that is never saved")
            page.keyboard.press("a")
            expect(page.locator("#progress")).to_contain_text("item 3 of 3")

            page.goto(f"{url}/batch/fake-b000/0")                 # the saved edit, from the server
            expect(box).to_have_value(EDITED)
            expect(note).to_be_hidden()
            page.goto(f"{url}/batch/fake-b000/1")                 # the accept stands: no edit put back
            expect(page.locator("#decision")).to_contain_text("accept")
            expect(box).not_to_have_value("an edit that is never saved")
            expect(note).to_be_hidden()
            assert page.evaluate("sessionStorage.length") == 0
        finally:
            browser.close()
    assert sorted(event.action for event in store.current(annotator="ann")) == ["accept", "edit"]


def test_one_annotators_unsaved_edit_is_not_put_back_for_another_in_the_same_tab(tmp_path, detector):
    # "Switch annotator?" in one tab: ann's unsaved text must not reach bob's page, where one Ctrl+Enter
    # would record it as bob's edit of an overlap pair (review 35)
    export_batches(make_run(tmp_path, pairs=3), batch_size=3)
    store = ReviewStore.for_runs(tmp_path)
    ann, bob = store.add_token("ann", ["fake-b000"]), store.add_token("bob", ["fake-b000"])
    with serving(create_app(tmp_path, store, detector=detector)) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{url}/batch/fake-b000/0?token={ann}")
            page.keyboard.press("e")
            page.fill("#edited-query", EDITED)
            page.goto(f"{url}/batch/fake-b000/0?token={bob}")
            page.click("#switch-confirm")
            expect(page.locator("header")).to_contain_text("bob")
            expect(page.locator("#edited-query")).not_to_have_value(EDITED)
            expect(page.locator("#draft-note")).to_be_hidden()
        finally:
            browser.close()
    assert store.current() == []
