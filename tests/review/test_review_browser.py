"""The review pages in a real headless Chromium: open with a token, accept, reject with a reason,
edit a query (the detector re-scores it), reload and see every decision kept.

Skipped where Debian's chromium or the playwright package is missing (CI installs both with
scripts/install_browser.sh). Never runs `playwright install`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.review_runs import make_run, serving

from pipeline.review.app import create_app
from pipeline.review.batches import export_batches
from pipeline.review.store import ReviewStore

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds

CHROMIUM = Path("/usr/lib/chromium/chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (scripts/install_browser.sh)", allow_module_level=True)

LAUNCH_ARGS = ["--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]
EDITED = "what could someone do with what is shown here?"


@pytest.fixture()
def page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_annotator_reviews_three_pairs_in_the_browser(tmp_path, page):
    run = make_run(tmp_path, pairs=6)
    export_batches(run, batch_size=6)
    store = ReviewStore.for_runs(tmp_path)
    token = store.add_token("ann", ["fake-b000"])
    expect = sync_api.expect
    with serving(create_app(tmp_path, store)) as url:
        page.goto(f"{url}/?token={token}")
        assert "token=" not in page.url                      # swapped for a cookie
        page.click("text=fake-b000")
        expect(page.locator("#progress")).to_contain_text("item 1 of 6")
        expect(page.locator("#query mark")).to_have_text("items")  # the leaked span is highlighted
        assert page.evaluate("document.querySelector('.pair img').naturalWidth") == 32

        page.keyboard.press("a")                             # accept, then on to item 2
        expect(page.locator("#progress")).to_contain_text("item 2 of 6")
        page.select_option("#reason", "wrong_category")
        page.click("#reject")
        expect(page.locator("#progress")).to_contain_text("item 3 of 6")
        page.keyboard.press("e")
        page.fill("#edited-query", EDITED)
        page.click("#save-edit")
        expect(page.locator("#edited")).to_have_text(EDITED)
        new_score = float(page.locator("#new-score").inner_text())
        assert 0.0 <= new_score <= 1.0

        page.reload()
        expect(page.locator("#progress")).to_contain_text("3 decided")
        expect(page.locator("#decision")).to_contain_text("edit")
        page.keyboard.press("k")
        expect(page.locator("#decision")).to_contain_text("reject (wrong_category)")
        page.keyboard.press("k")
        expect(page.locator("#decision")).to_contain_text("accept")

    current = {event.pair_id: event for event in store.current(annotator="ann")}
    assert sorted(event.action for event in current.values()) == ["accept", "edit", "reject"]
    (edit,) = [event for event in current.values() if event.action == "edit"]
    assert edit.edited_query == EDITED and edit.new_leak_score == pytest.approx(new_score, abs=5e-4)
