"""An item whose image has not loaded (a slow link) or could not be shown (a 404), in a real headless Chromium:
Accept, Reject and Edit, their buttons and their keys, send nothing and the polite status says why
("Waiting for the image…"); once the image loads they work. A broken image leaves only Skip (or a reload).
Without JavaScript the page cannot tell, so a judgement is refused until the annotator says they can see the
image. Skipped where the browser is missing, as in test_review_browser.py."""

from __future__ import annotations

import asyncio
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.support.browser import CHROMIUM, require_browser
from tests.support.review_runs import make_run, serving

from pipeline.review.app import create_app
from pipeline.review.batches import export_batches
from pipeline.review.forms import IMAGE_NOT_YET
from pipeline.review.store import ReviewStore

pytestmark = pytest.mark.slow

require_browser()

from playwright import sync_api  # noqa: E402  (only once the browser is known to be there)

expect = sync_api.expect
WAITING = "Waiting for the image… Accept, Reject and Edit work once it has loaded."
NOTHING_SENT = "Waiting for the image… nothing was sent: Accept, Reject and Edit work once it has loaded."
LOADED = "The image has loaded: Accept, Reject and Edit work now."
FAILED = ("The image could not be shown, so this pair cannot be accepted, rejected or edited here: "
          "reload the item to try it again, or skip it.")
EDITED = "how could I hide what is on the table?"


class HoldImages:
    """The app, except that images are answered only once `released` is set (a slow link); counts POSTs."""

    def __init__(self, app):
        self.app, self.released, self.posts = app, threading.Event(), 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST":
            self.posts += 1
        if scope["type"] == "http" and scope["path"].startswith("/image/"):
            while not self.released.is_set():
                await asyncio.sleep(0.02)
        return await self.app(scope, receive, send)


@contextmanager
def opened(runs_dir: Path, images_gone: bool = False, **context_options):
    """(page opening item 1 of 3 of fake-b000 as ann, not waiting for its image; the store; the served app)."""
    run = make_run(runs_dir, pairs=3)
    export_batches(run, batch_size=3)
    if images_gone:
        for image in (run / "images").iterdir():               # their URLs answer 404
            image.unlink()
    store = ReviewStore.for_runs(runs_dir)
    token = store.add_token("ann", ["fake-b000"])
    app = HoldImages(create_app(runs_dir, store))
    if images_gone:
        app.released.set()
    with serving(app) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_context(**context_options).new_page()
            page.goto(f"{url}/batch/fake-b000/0?token={token}", wait_until="domcontentloaded")
            yield page, store, app
        finally:
            app.released.set()
            browser.close()


def test_until_the_image_loads_accept_reject_and_edit_send_nothing_and_say_why_then_they_work(tmp_path):
    with opened(tmp_path) as (page, store, app):
        sending = page.locator("#sending")
        expect(page.locator("#item-heading")).to_be_focused()     # focus where it always opens
        expect(sending).to_have_text(WAITING)
        expect(sending).to_have_attribute("aria-live", "polite")
        for button in ("#accept", "#reject", "#save-edit"):
            expect(page.locator(button)).to_have_attribute("aria-disabled", "true")
        expect(page.locator("#skip")).not_to_have_attribute("aria-disabled", "true")

        page.keyboard.press("a")
        expect(sending).to_have_text(NOTHING_SENT)
        page.evaluate("document.getElementById('sending').textContent = ''")  # each refusal says it again
        page.keyboard.press("3")                                  # reject in one key
        expect(sending).to_have_text(NOTHING_SENT)
        expect(page.locator("#reason")).to_have_value("")         # the key picked no reason either
        page.evaluate("document.getElementById('sending').textContent = ''")
        page.click("#accept", force=True)  # aria-disabled: a click still reaches it
        expect(sending).to_have_text(NOTHING_SENT)
        page.keyboard.press("e")                                  # the edit box opens, its save sends nothing
        page.fill("#edited-query", EDITED)
        page.evaluate("document.getElementById('sending').textContent = ''")
        page.keyboard.press("Control+Enter")
        expect(sending).to_have_text(NOTHING_SENT)
        assert app.posts == 0 and store.current(annotator="ann") == []

        app.released.set()                                        # the image arrives
        expect(sending).to_have_text(LOADED)
        expect(page.locator("#accept")).not_to_have_attribute("aria-disabled", "true")
        page.focus("#item-heading")
        page.keyboard.press("a")
        expect(page.locator("#saved")).to_have_text("Saved item 1: accept")
        assert app.posts == 1 and [event.action for event in store.current(annotator="ann")] == ["accept"]


def test_a_broken_image_says_so_leaves_only_skip_and_a_forced_post_is_refused_by_the_server(tmp_path):
    with opened(tmp_path, images_gone=True) as (page, store, app):
        sending = page.locator("#sending")
        expect(sending).to_have_text(FAILED)
        expect(page.locator("#reload-item")).to_have_attribute("href", "/batch/fake-b000/0")
        page.keyboard.press("a")
        page.keyboard.press("5")
        page.click("#reject", force=True)
        expect(sending).to_have_text(FAILED)
        expect(page.locator("#accept")).to_have_attribute("aria-disabled", "true")
        assert app.posts == 0

        # a script that gets round the page: the form says what the page knew, and the server refuses it
        answer = page.evaluate("""fetch(location.pathname, {method: "POST",
            body: new URLSearchParams(new FormData(document.getElementById("accept-form")))}).then((r) => r.status)""")
        assert answer == 400 and store.current(annotator="ann") == []

        page.focus("#item-heading")                               # Reject without a reason focused the list
        page.keyboard.press("s")                                  # skip is recorded, and the pair stays open
        expect(page.locator("#saved")).to_have_text("Saved item 1: skip")
        assert [event.action for event in store.current(annotator="ann")] == ["skip"]


def test_without_javascript_a_judgement_waits_for_the_annotator_to_say_they_can_see_the_image(tmp_path):
    with opened(tmp_path, java_script_enabled=False) as (page, store, app):
        app.released.set()
        page.click("#accept")                                     # the form posts, and is refused
        expect(page.locator("#problem")).to_contain_text(f"Nothing was saved: {IMAGE_NOT_YET}")
        assert store.current(annotator="ann") == []
        page.click("#image-seen")                                 # "say that you can see the image"
        expect(page.locator("#image-noscript")).to_contain_text("You said you can see the image")
        page.click("#accept", force=True)  # aria-disabled: a click still reaches it
        expect(page.locator("#saved")).to_have_text("Saved item 1: accept")
        assert [event.action for event in store.current(annotator="ann")] == ["accept"]
