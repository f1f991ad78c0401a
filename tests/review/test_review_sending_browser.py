"""A decision whose answer never comes (a lost link), in a real headless Chromium: the page says at once
that it is sending, and after 15 s without an answer that the decision may or may not be saved, with a
link that opens the item by GET. Escape (or "Stop waiting") stops the load and gives the page back;
deciding again from it is the same request (the page's request id), recorded once.

While a form's navigation hangs, Playwright reads nothing from the page (its calls wait for the
navigation), so the first test sends keys through the DevTools protocol and reads the page once Escape
has stopped the load; the server records the first POST and never answers it. The others let the
answer go missing in the page (a submit listener posts the form with fetch instead of navigating), so
Playwright's clock can pass the 15 s at once. Skipped where the browser is missing, as in
test_review_browser.py."""

from __future__ import annotations

import asyncio
import threading
from contextlib import contextmanager

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
NO_ANSWER = "No answer from the server yet: your decision may or may not be saved; reload the item to see what is saved."
STOPPED = ("Stopped waiting: your decision may or may not be saved; reload the item to see what is saved, "
           "or decide again here.")
# posts the form as the browser would, but the page never gets the answer: it stays, waiting
LOSE_THE_ANSWER = """window.addEventListener("submit", (event) => {
  event.preventDefault();
  window.posted = fetch(location.pathname, {method: "POST", redirect: "manual",
                                            body: new URLSearchParams(new FormData(event.target))});
}, {once: true})"""


class LoseFirstAnswer:
    """The app, except that the first POST is recorded and its answer never sent (the connection is held
    open until `released`)."""

    def __init__(self, app):
        self.app, self.posts, self.recorded, self.released = app, 0, threading.Event(), False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        self.posts += 1
        if self.posts > 1:
            return await self.app(scope, receive, send)

        async def swallow(message):
            pass
        await self.app(scope, receive, swallow)
        self.recorded.set()
        while not self.released:  # the connection stays open, as behind a link that lost the answer
            await asyncio.sleep(0.05)


@contextmanager
def item_page(runs_dir, wrap=lambda app: app, fake_clock: bool = False):
    """(page on item 1 of 3 of fake-b000, signed in as ann; the store; the served app)."""
    export_batches(make_run(runs_dir, pairs=3), batch_size=3)
    store = ReviewStore.for_runs(runs_dir)
    token = store.add_token("ann", ["fake-b000"])
    app = wrap(create_app(runs_dir, store))
    with serving(app) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page()
            if fake_clock:
                page.clock.install()
            page.goto(f"{url}/batch/fake-b000/0?token={token}")
            yield page, store, app
        finally:
            app.released = True
            browser.close()


def press_raw(cdp, key: str, code: str, key_code: int, text: str = "") -> None:
    """A key sent through the DevTools protocol: Playwright's own press waits for the navigation it starts."""
    down = {"key": key, "code": code, "windowsVirtualKeyCode": key_code}
    cdp.send("Input.dispatchKeyEvent", {"type": "keyDown" if text else "rawKeyDown", "text": text, **down})
    cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **down})


def test_escape_stops_a_decision_whose_answer_never_comes_and_deciding_again_records_it_once(tmp_path):
    with item_page(tmp_path, wrap=LoseFirstAnswer) as (page, store, app):
        cdp = page.context.new_cdp_session(page)
        press_raw(cdp, "a", "KeyA", 65, "a")
        assert app.recorded.wait(30), "the accept never reached the server"
        press_raw(cdp, "s", "KeyS", 83, "s")            # one decision per page: ignored
        press_raw(cdp, "Escape", "Escape", 27)
        expect(page.locator("#sending")).to_have_text(STOPPED)  # readable again: the load was stopped
        expect(page.locator("#stop-waiting")).to_be_hidden()
        assert app.posts == 1 and [e.action for e in store.current(annotator="ann")] == ["accept"]

        page.keyboard.press("a")                              # the same decision from the same page
        expect(page.locator("#progress")).to_contain_text("item 2 of 3")
        expect(page.locator("#saved")).to_have_text("Saved item 1: accept")
        assert [(e.action, e.history) for e in store.current(annotator="ann")] == [("accept", 1)]


def test_a_decision_says_sending_then_after_15_s_that_it_may_be_saved_with_a_get_link(tmp_path):
    with item_page(tmp_path, fake_clock=True) as (page, store, _):
        sending = page.locator("#sending")
        expect(sending).to_have_attribute("role", "status")
        expect(page.locator("#stop-waiting")).to_be_hidden()
        page.evaluate(LOSE_THE_ANSWER)
        page.keyboard.press("a")
        expect(sending).to_have_text("Sending your decision…")
        expect(page.get_by_role("button", name="Stop waiting", exact=True)).to_be_visible()
        page.evaluate("posted.then(() => true)")              # the server has it
        page.keyboard.press("s")                              # still one decision per page
        page.clock.run_for(14_000)
        expect(sending).to_have_text("Sending your decision…")
        page.clock.run_for(1_500)
        expect(sending).to_have_text(NO_ANSWER)
        link = page.locator("#reload-item")
        expect(link).to_have_attribute("href", "/batch/fake-b000/0")
        link.focus()
        page.keyboard.press("Enter")                          # keys still reach the note's link
        expect(page.locator("#decision")).to_contain_text("accept")  # opened by GET: what is saved
        assert [(e.action, e.history) for e in store.current(annotator="ann")] == [("accept", 1)]


def test_stop_waiting_gives_the_page_back(tmp_path):
    with item_page(tmp_path, fake_clock=True) as (page, store, _):
        page.evaluate(LOSE_THE_ANSWER)
        page.keyboard.press("a")
        page.evaluate("posted.then(() => true)")
        page.click("#stop-waiting")
        expect(page.locator("#sending")).to_have_text(STOPPED)
        expect(page.locator("#stop-waiting")).to_be_hidden()
        page.keyboard.press("a")                              # sent again: the same request, answered
        expect(page.locator("#progress")).to_contain_text("item 2 of 3")
        page.clock.run_for(1_000)                             # the saved note is put back a moment after load
        expect(page.locator("#saved")).to_have_text("Saved item 1: accept")
        assert [(e.action, e.history) for e in store.current(annotator="ann")] == [("accept", 1)]
