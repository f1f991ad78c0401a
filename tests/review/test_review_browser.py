"""The review pages in a real headless Chromium: open with a token, accept, reject in one number key,
edit a query and save it with Ctrl+Enter (the detector re-checks it), reload and see every decision
kept, and land on "batch done" after the last item.

Skipped where Debian's chromium or the playwright package is missing, except under CI=true, where a
missing browser fails the run with a one-line reason (CI installs it with scripts/install_browser.sh).
Never runs `playwright install`.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from tests.support.review_runs import make_run, serving

from pipeline.review.app import create_app
from pipeline.review.batches import export_batches
from pipeline.review.store import REASONS, ReviewStore

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds

CHROMIUM = Path(os.environ.get("LEAKLESS_CHROMIUM", "/usr/lib/chromium/chromium"))


def missing_browser() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (scripts/install_browser.sh)"
    return None


if (missing := missing_browser()) is not None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs the browser tests: {missing}", pytrace=False)
    pytest.skip(missing, allow_module_level=True)

from playwright import sync_api  # noqa: E402  (only once the browser is known to be there)

LAUNCH_ARGS = ["--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]
EDITED = "how could I hide what is on the table?"  # leak-free, harmless, keeps "hide the knife"'s intent


@pytest.fixture()
def page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


@pytest.mark.slow
def test_annotator_reviews_a_batch_in_the_browser(tmp_path, page):
    run = make_run(tmp_path, pairs=4)
    export_batches(run, batch_size=4)
    store = ReviewStore.for_runs(tmp_path)
    token = store.add_token("ann", ["fake-b000"])
    expect = sync_api.expect
    with serving(create_app(tmp_path, store, warm=True)) as url:  # warm: the first edit does not wait
        page.goto(f"{url}/?token={token}")
        assert "token=" not in page.url                      # swapped for a session cookie
        page.click("text=fake-b000")
        expect(page.locator("#progress")).to_contain_text("item 1 of 4")
        expect(page.locator("#query mark")).to_have_text("items")  # the leaked span is highlighted
        # loaded or broken, not still on its way; a broken image reads 0 and fails
        page.wait_for_function("document.querySelector('.pair img').complete")
        assert page.evaluate("document.querySelector('.pair img').naturalWidth") == 32

        page.keyboard.press("a")                             # accept, then on to item 2
        expect(page.locator("#progress")).to_contain_text("item 2 of 4")
        page.keyboard.press("4")                             # reject in one key: the fourth reason
        expect(page.locator("#progress")).to_contain_text("item 3 of 4")
        page.keyboard.press("e")
        page.fill("#edited-query", EDITED)
        page.keyboard.press("Control+Enter")                 # saves from inside the text box
        expect(page.locator("#edited")).to_have_text(EDITED)
        expect(page.locator("#query")).to_have_text(EDITED)  # the heading shows the edit
        new_score = float(page.locator("#new-score").inner_text())
        assert 0.0 <= new_score <= 1.0

        page.reload()
        expect(page.locator("#progress")).to_contain_text("3 decided")
        expect(page.locator("#decision")).to_contain_text("edit")
        page.keyboard.press("k")
        expect(page.locator("#decision")).to_contain_text(f"reject ({REASONS[3]})")
        page.keyboard.press("k")
        expect(page.locator("#decision")).to_contain_text("accept")
        page.goto(f"{url}/batch/fake-b000/3")
        page.keyboard.press("s")                             # the last open item: the batch is done
        expect(page.locator("#done")).to_have_text("Batch done")

    current = {event.pair_id: event for event in store.current(annotator="ann")}
    assert sorted(event.action for event in current.values()) == ["accept", "edit", "reject", "skip"]
    (edit,) = [event for event in current.values() if event.action == "edit"]
    assert edit.edited_query == EDITED and edit.new_leak_score == pytest.approx(new_score, abs=5e-4)
    (reject,) = [event for event in current.values() if event.action == "reject"]
    assert reject.reason == REASONS[3]
