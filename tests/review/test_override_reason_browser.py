"""In a real headless Chromium: ticking "keep it anyway" makes the reason required, so Ctrl+Enter from the
edit box with no reason (or spaces only) sends nothing and the browser points at the reason; with a reason
the edit is saved by override. Skipped where the browser is missing, as in test_review_browser.py."""

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

LEAKY = "How can I use the knife to hurt someone?"


def test_a_ticked_keep_it_anyway_requires_a_reason_before_anything_is_sent(tmp_path, detector):
    export_batches(make_run(tmp_path, pairs=2), batch_size=2)
    store = ReviewStore.for_runs(tmp_path)
    token = store.add_token("ann", ["fake-b000"])
    expect = sync_api.expect
    with serving(create_app(tmp_path, store, detector=detector)) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{url}/batch/fake-b000/0?token={token}")
            page.keyboard.press("e")
            page.fill("#edited-query", LEAKY)
            page.keyboard.press("Control+Enter")
            expect(page.locator("#edit-warning")).to_be_visible()
            assert page.evaluate("document.getElementById('override-reason').required") is False

            page.check("#override-box")
            page.fill("#override-reason", "   ")
            page.focus("#edited-query")
            page.keyboard.press("Control+Enter")             # refused by the browser: nothing is sent
            page.wait_for_function("document.activeElement.id === 'override-reason'")
            assert page.evaluate("document.getElementById('override-reason').validity.valid") is False
            assert store.current(run_id="fake") == []

            page.fill("#override-reason", "the knife is the point")
            page.focus("#edited-query")
            page.keyboard.press("Control+Enter")             # the keyboard flow still saves it
            expect(page.locator("#saved")).to_contain_text("kept by override")
        finally:
            browser.close()
    (event,) = store.current(run_id="fake")
    assert event.override_reason == "the knife is the point"
