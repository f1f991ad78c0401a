"""The item page for a keyboard and screen-reader annotator, read from what a real headless Chromium
exposes (the accessibility tree, attributes, focus): landmarks, headings and title say where the
annotator is; the item, not Accept, is where the page opens; errors are tied to their fields.
Skipped where the browser is missing, as in test_review_browser.py."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from tests.support.review_runs import make_run, serving

from pipeline.review.app import create_app
from pipeline.review.batches import export_batches
from pipeline.review.store import ReviewStore

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("LEAKLESS_CHROMIUM", "/usr/lib/chromium/chromium"))
if importlib.util.find_spec("playwright") is None or not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs the browser tests: playwright or {CHROMIUM} is missing", pytrace=False)
    pytest.skip(f"playwright or {CHROMIUM} is missing", allow_module_level=True)

from playwright import sync_api  # noqa: E402  (only once the browser is known to be there)

expect = sync_api.expect


@pytest.fixture()
def item(tmp_path, detector):
    """(page on item 1 of 3 of fake-b000, signed in as ann; the review store)."""
    export_batches(make_run(tmp_path, pairs=3), batch_size=3)
    store = ReviewStore.for_runs(tmp_path)
    token = store.add_token("ann", ["fake-b000"])
    with serving(create_app(tmp_path, store, detector=detector)) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{url}/batch/fake-b000/0?token={token}")
            yield page, store
        finally:
            browser.close()


def test_the_item_page_has_a_main_landmark_an_h1_saying_where_the_annotator_is_and_a_full_title(item):
    page, _ = item
    expect(page).to_have_title("Item 1 of 3 · fake-b000 · leakless review")
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Batch fake-b000: item 1 of 3")
