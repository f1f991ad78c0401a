"""The review pages in a real headless Chromium: open with a token, accept, reject in one number key,
edit a query and save it with Ctrl+Enter (the detector re-checks it, and the app moves on), land on
"batch done" after the last item and see every decision kept. Two keys pressed in quick succession
decide one pair once; `r`, the arrow keys and `r` (or Enter) reject with the picked reason; the
page fits a narrow screen and puts the keyboard focus where it is needed. `a` on an edited pair keeps
the edit, and a second tab showing an older decision gets 409; single-key shortcuts can be turned off
(remembered by the browser), each decision is announced, and a pending submit leaves F5 alone.

Skipped where Debian's chromium or the playwright package is missing, except under CI=true, where a
missing browser fails the run with a one-line reason (CI installs it with scripts/install_browser.sh).
Never runs `playwright install`.
"""

from __future__ import annotations


import pytest
from tests.support.browser import CHROMIUM, require_browser
from tests.support.review_runs import make_run, serving

from pipeline.review.app import create_app
from pipeline.review.batches import export_batches
from pipeline.review.decisions import REASONS
from pipeline.review.store import ReviewStore

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds

require_browser()

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
        # loaded or broken, not still on its way (the page's load waits for it); a broken image reads 0 and fails
        page.wait_for_load_state()
        assert page.evaluate("document.querySelector('.pair img').naturalWidth") == 32

        page.keyboard.press("a")                             # accept, then on to item 2
        expect(page.locator("#progress")).to_contain_text("item 2 of 4")
        page.wait_for_load_state()                           # its image: a decision waits for it
        page.keyboard.press("4")                             # reject in one key: the fourth reason
        expect(page.locator("#progress")).to_contain_text("item 3 of 4")
        page.wait_for_load_state()
        page.keyboard.press("e")
        page.fill("#edited-query", EDITED)
        page.keyboard.press("Control+Enter")                 # saves from inside the text box, and moves on
        expect(page.locator("#progress")).to_contain_text("item 4 of 4")
        page.keyboard.press("s")                             # the last open item: the batch is done
        expect(page.locator("#done")).to_have_text("Batch done")

        page.goto(f"{url}/batch/fake-b000/2")                # every decision kept
        expect(page.locator("#progress")).to_contain_text("4 decided")
        expect(page.locator("#decision")).to_contain_text("edit")
        expect(page.locator("#edited")).to_have_text(EDITED)
        expect(page.locator("#query")).to_have_text(EDITED)  # the heading shows the edit
        new_score = float(page.locator("#new-score").inner_text())
        assert 0.0 <= new_score <= 1.0
        page.keyboard.press("k")
        expect(page.locator("#decision")).to_contain_text(f"reject ({REASONS[3]})")
        page.keyboard.press("k")
        expect(page.locator("#decision")).to_contain_text("accept")

    current = {event.pair_id: event for event in store.current(annotator="ann")}
    assert sorted(event.action for event in current.values()) == ["accept", "edit", "reject", "skip"]
    (edit,) = [event for event in current.values() if event.action == "edit"]
    assert edit.edited_query == EDITED and edit.new_leak_score == pytest.approx(new_score, abs=5e-4)
    (reject,) = [event for event in current.values() if event.action == "reject"]
    assert reject.reason == REASONS[3]


def decisions_of(store: ReviewStore, annotator: str = "ann") -> list[tuple[str, str, str | None]]:
    return [(event.pair_id, event.action, event.reason) for event in store.current(annotator=annotator)]


@pytest.mark.slow
def test_quick_keys_decide_a_pair_once_and_r_rejects_with_the_picked_reason(tmp_path, page):
    run = make_run(tmp_path, pairs=4)
    export_batches(run, batch_size=4)
    store = ReviewStore.for_runs(tmp_path)
    token = store.add_token("ann", ["fake-b000"])
    expect = sync_api.expect
    with serving(create_app(tmp_path, store)) as url:
        page.goto(f"{url}/batch/fake-b000/0?token={token}")
        first = page.locator("input[name=pair_id]").first.get_attribute("value")
        page.keyboard.press("a")
        page.keyboard.press("2")                             # before the next page: ignored, not a reject of item 1
        expect(page.locator("#progress")).to_contain_text("item 2 of 4")
        page.wait_for_load_state("networkidle")
        assert decisions_of(store) == [(first, "accept", None)]

        second = page.locator("input[name=pair_id]").first.get_attribute("value")
        page.keyboard.press("r")                             # focuses the reason list
        expect(page.locator("#reason")).to_be_focused()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")                     # the second reason
        page.keyboard.press("r")                             # rejects with it (no type-ahead to the placeholder)
        expect(page.locator("#progress")).to_contain_text("item 3 of 4")
        page.wait_for_load_state()                           # its image: a decision waits for it
        third = page.locator("input[name=pair_id]").first.get_attribute("value")
        page.keyboard.press("r")
        for _ in range(3):
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")                         # Enter in the list rejects too
        expect(page.locator("#progress")).to_contain_text("item 4 of 4")
        page.wait_for_load_state("networkidle")
    assert decisions_of(store) == [(first, "accept", None), (second, "reject", REASONS[1]),
                                   (third, "reject", REASONS[2])]


@pytest.mark.slow
def test_a_narrow_screen_gets_one_column_focus_lands_where_it_is_needed_and_a_long_edit_wraps(tmp_path, page):
    run = make_run(tmp_path, pairs=2)
    export_batches(run, batch_size=2)
    store = ReviewStore.for_runs(tmp_path)
    token = store.add_token("ann", ["fake-b000"])
    expect = sync_api.expect
    page.set_viewport_size({"width": 600, "height": 900})
    with serving(create_app(tmp_path, store, warm=True)) as url:
        page.goto(f"{url}/batch/fake-b000/0?token={token}")
        expect(page.locator("#item-heading")).to_be_focused()  # the item is read first
        columns = page.evaluate("getComputedStyle(document.querySelector('.pair')).gridTemplateColumns")
        assert len(columns.split()) == 1, columns
        page.keyboard.press("e")
        page.fill("#edited-query", "How can I use the knife to hurt someone?")
        page.keyboard.press("Control+Enter")                 # leaks: not saved, and the warning says so first
        expect(page.locator("#edit-warning")).to_be_focused()
        expect(page.locator("#edit-warning")).to_have_attribute("role", "alert")

        long_edit = ("how could I put away what is on the table" + " very carefully and slowly" * 20)
        page.fill("#edited-query", long_edit)
        page.check("#override-box")
        page.fill("#override-reason", "a long edit on purpose")
        page.click("#save-edit")
        expect(page.locator("#progress")).to_contain_text("item 2 of 2")
        page.goto(f"{url}/batch/fake-b000/0")
        query = page.locator("#query")
        expect(query).to_have_text(long_edit)
        font = float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('#query')).fontSize)"))
        box = query.bounding_box()
        assert font <= 20 and box["width"] <= 600 and box["height"] <= 12 * font + 1, (font, box)


@pytest.mark.slow
def test_accept_keeps_an_edit_and_a_stale_tab_cannot_replace_a_newer_decision(tmp_path, page):
    run = make_run(tmp_path, pairs=3)
    export_batches(run, batch_size=3)
    store = ReviewStore.for_runs(tmp_path)
    token = store.add_token("ann", ["fake-b000"])
    expect = sync_api.expect
    with serving(create_app(tmp_path, store, warm=True)) as url:
        page.goto(f"{url}/batch/fake-b000/0?token={token}")
        page.keyboard.press("e")
        page.fill("#edited-query", EDITED)
        page.keyboard.press("Control+Enter")
        expect(page.locator("#progress")).to_contain_text("item 2 of 3")
        page.goto(f"{url}/batch/fake-b000/0")                # back to the edited pair
        expect(page.locator("#accept")).to_contain_text("Accept my edit")
        page.keyboard.press("a")                             # "accept what I see": the edit stays
        expect(page.locator("#progress")).to_contain_text("item 2 of 3")
        expect(page.locator("#saved")).to_contain_text(f'Saved item 1: edit "{EDITED}"')
        page.wait_for_load_state("networkidle")

        session = page.context.storage_state()               # the same session cookie: a second tab on item 2
        second_tab = page.context.browser.new_context(storage_state=session).new_page()
        second_tab.goto(f"{url}/batch/fake-b000/1")
        page.keyboard.press("2")                             # the first tab rejects item 2
        expect(page.locator("#progress")).to_contain_text("item 3 of 3")
        second_tab.keyboard.press("a")                       # the second tab still shows "none yet"
        expect(second_tab.locator("#error")).to_have_text("409")
        expect(second_tab.locator("#detail")).to_contain_text("changed after this page was loaded")
    current = {event.pair_id: event for event in store.current(annotator="ann")}
    assert sorted((event.action, event.edited_query) for event in current.values()) == [
        ("edit", EDITED), ("reject", None)]


@pytest.mark.slow
def test_single_key_shortcuts_can_be_turned_off_and_each_decision_is_announced(tmp_path, page):
    run = make_run(tmp_path, pairs=3)
    export_batches(run, batch_size=3)
    store = ReviewStore.for_runs(tmp_path)
    token = store.add_token("ann", ["fake-b000"])
    expect = sync_api.expect
    with serving(create_app(tmp_path, store)) as url:
        page.goto(f"{url}/batch/fake-b000/0?token={token}")
        page.keyboard.press("5")
        saved = page.locator("#saved")
        expect(saved).to_have_text(f"Saved item 1: reject ({REASONS[4]})")
        expect(saved).to_have_attribute("role", "status")
        expect(saved).to_have_attribute("aria-live", "polite")

        page.uncheck("#shortcuts")
        expect(page.locator("#accept kbd")).to_be_hidden()  # no hint for a key that does nothing
        page.reload()                                        # remembered in this browser
        expect(page.locator("#shortcuts")).not_to_be_checked()
        page.locator("#accept").blur()
        for key in ("a", "s", "3", "j"):
            page.keyboard.press(key)
        page.wait_for_timeout(500)
        expect(page.locator("#progress")).to_contain_text("item 2 of 3")
        assert [event.action for event in store.current(annotator="ann")] == ["reject"]
        page.click("#accept")                                # the buttons still work
        expect(page.locator("#progress")).to_contain_text("item 3 of 3")

        # while a decision is on its way, browser keys (F5, Ctrl+R) are left alone; shortcuts are not
        page.evaluate("submitted = true")
        blocked = page.evaluate("""() => Object.fromEntries([["F5", {}], ["r", {ctrlKey: true}], ["a", {}]]
            .map(([key, mods]) => { const event = new KeyboardEvent("keydown", {key, cancelable: true, ...mods});
                                    document.dispatchEvent(event); return [key, event.defaultPrevented]; }))""")
        assert blocked == {"F5": False, "r": False, "a": True}
