"""The review app on a phone, in a real headless Chromium emulating an iPhone SE (320px wide, touch), tapped
with real touch events: a tap in the first half second, before the image has loaded, keeps its "nothing was
sent" note; the flagged-edit ("Not saved") page fits the screen with no sideways scroll; the action controls
are at least 44px tall and apart, and a desktop keeps its compact ones. Skipped where the browser is missing,
as in test_review_browser.py."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from tests.review.test_review_image_wait_browser import LOADED, NOTHING_SENT, HoldImages
from tests.support.browser import CHROMIUM, require_browser
from tests.support.review_runs import make_run, serving

from pipeline.review.app import create_app
from pipeline.review.batches import export_batches
from pipeline.review.store import ReviewStore

pytestmark = pytest.mark.slow

require_browser()

from playwright import sync_api  # noqa: E402  (only once the browser is known to be there)

expect = sync_api.expect
LEAKY = "How can I use the knife to hurt someone?"  # flagged by the re-check: the "Not saved" page
TOUCH_TARGET = 44   # px, the touch guideline's target height
TARGET_GAP = 8      # px between two controls a finger could mean
ACTION_CONTROLS = ("#accept", "#reason", "#reject", "#skip", "#edit-toggle", "#save-edit", "#prev", "#next")
PAGE_WIDTH = """(() => ({inner: innerWidth, scroll: document.documentElement.scrollWidth,
                         right: Math.max(...[...document.querySelectorAll('#edit-form *')]
                                         .map((element) => element.getBoundingClientRect().right))}))()"""


def box(page, selector: str) -> dict:
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def tap(page, selector: str) -> None:
    """A finger on the control's centre (`locator.tap()` would wait out its aria-disabled)."""
    page.locator(selector).scroll_into_view_if_needed()
    at = box(page, selector)
    page.touchscreen.tap(at["x"] + at["width"] / 2, at["y"] + at["height"] / 2)


def gap(first: dict, second: dict) -> float:
    """The distance between two boxes along the axis that separates them (negative: they overlap)."""
    return max(second["y"] - (first["y"] + first["height"]), first["y"] - (second["y"] + second["height"]),
               second["x"] - (first["x"] + first["width"]), first["x"] - (second["x"] + second["width"]))


@contextmanager
def phone_page(runs_dir, detector, clock_paused: bool = False):
    """(a page opening item 1 of 3 of fake-b000 as ann on an iPhone SE, not waiting for its image; the served app,
    whose images wait for `app.released`; the browser; the item's address with ann's token). With
    `clock_paused` the page's timers run only when the test says (`page.clock.run_for`)."""
    export_batches(make_run(runs_dir, pairs=3), batch_size=3)
    store = ReviewStore.for_runs(runs_dir)
    token = store.add_token("ann", ["fake-b000"])
    app = HoldImages(create_app(runs_dir, store, detector=detector))
    with serving(app) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_context(**playwright.devices["iPhone SE"]).new_page()
            if clock_paused:
                start = datetime(2026, 1, 1, tzinfo=timezone.utc)
                page.clock.install(time=start)
                page.clock.pause_at(start.replace(second=1))
            address = f"{url}/batch/fake-b000/0?token={token}"
            page.goto(address, wait_until="domcontentloaded")
            yield page, app, browser, address
        finally:
            app.released.set()
            browser.close()
    assert store.current(run_id="fake") == []                         # nothing was saved throughout


def test_a_tap_before_the_image_loads_keeps_its_nothing_was_sent_note_past_the_waiting_notes_time(
        tmp_path, detector):
    with phone_page(tmp_path, detector, clock_paused=True) as (phone, app, _, _):
        tap(phone, "#accept")                                  # before the 0.5 s "Waiting for the image…" note
        expect(phone.locator("#sending")).to_have_text(NOTHING_SENT)
        phone.clock.run_for(2000)                              # past the note's time
        assert phone.locator("#sending").inner_text() == NOTHING_SENT
        app.released.set()
        expect(phone.locator("#sending")).to_have_text(LOADED)
        assert app.posts == 0


def test_the_flagged_edit_page_fits_a_320px_phone_with_no_sideways_scroll(tmp_path, detector):
    with phone_page(tmp_path, detector) as (phone, app, _, _):
        app.released.set()
        expect(phone.locator("#accept")).not_to_have_attribute("aria-disabled", "true")
        tap(phone, "#edit-toggle")
        phone.locator("#edited-query").fill(LEAKY)
        tap(phone, "#save-edit")
        expect(phone.locator("#edit-warning")).to_be_visible()   # the flagged-edit "Not saved" page
        tap(phone, "#override-box")
        phone.locator("#override-reason").fill("the knife is what the pair is about")
        width = phone.evaluate(PAGE_WIDTH)
        assert width["inner"] == 320 and width["scroll"] == 320, width   # no sideways scroll
        assert width["right"] <= 320, width                                # the edit form is all on screen


def test_on_a_touch_screen_action_controls_are_44px_tall_and_apart_and_a_desktop_keeps_them_compact(
        tmp_path, detector):
    with phone_page(tmp_path, detector) as (phone, app, browser, address):
        app.released.set()
        tap(phone, "#edit-toggle")
        expect(phone.locator("#edited-query")).to_be_visible()
        boxes = {selector: box(phone, selector) for selector in ACTION_CONTROLS}
        short = {selector: at["height"] for selector, at in boxes.items() if at["height"] < TOUCH_TARGET}
        assert short == {}, f"below {TOUCH_TARGET}px on a touch screen: {short}"
        stacked = ("#accept", "#reason", "#reject", "#skip", "#edit-toggle")
        close = [(a, b, gap(boxes[a], boxes[b])) for i, a in enumerate(stacked) for b in stacked[i + 1:]
                 if gap(boxes[a], boxes[b]) < TARGET_GAP]
        assert close == [], f"controls closer than {TARGET_GAP}px: {close}"

        desktop = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        desktop.goto(address)
        assert box(desktop, "#accept")["height"] < TOUCH_TARGET     # a mouse keeps the compact buttons
