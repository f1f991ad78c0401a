"""The item page for a keyboard and screen-reader annotator, read from what a real headless Chromium
exposes (the accessibility tree, attributes, focus): landmarks, headings and title say where the
annotator is; the item, not Accept, is where the page opens; errors are tied to their fields.
Skipped where the browser is missing, as in test_review_browser.py."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.support.browser import CHROMIUM, require_browser
from tests.support.review_runs import make_run, serving

from pipeline.review.app import create_app
from pipeline.review.batches import export_batches
from pipeline.review.store import ReviewStore
from pipeline.writers.shard_reader import shard_paths

pytestmark = pytest.mark.slow

require_browser()

from playwright import sync_api  # noqa: E402  (only once the browser is known to be there)

expect = sync_api.expect
LEAKY = "How can I use the knife to hurt someone?"


def record_image_backends(run: Path, backends: dict[str, str]) -> None:
    (shard,) = shard_paths(run)
    table = pq.read_table(shard)
    column = [backends.get(pair_id) for pair_id in table.column("id").to_pylist()]
    index = table.schema.get_field_index("image_backend")
    pq.write_table(table.set_column(index, "image_backend", pa.array(column, pa.string())), shard)


@contextmanager
def item_page(runs_dir: Path, detector, image_backends: dict[str, str] | None = None, **page_options):
    """(page on item 1 of 3 of fake-b000, signed in as ann; the review store). `image_backends`: pair id ->
    the backend its run's shard records for its image."""
    run = make_run(runs_dir, pairs=3)
    if image_backends:
        record_image_backends(run, image_backends)
    export_batches(run, batch_size=3)
    store = ReviewStore.for_runs(runs_dir)
    token = store.add_token("ann", ["fake-b000"])
    with serving(create_app(runs_dir, store, detector=detector)) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(**page_options)
            page.goto(f"{url}/batch/fake-b000/0?token={token}")
            yield page, store
        finally:
            browser.close()


@pytest.fixture()
def item(tmp_path, detector):
    with item_page(tmp_path, detector) as opened:
        yield opened


def test_the_item_page_has_a_main_landmark_an_h1_saying_where_the_annotator_is_and_a_full_title(item):
    page, _ = item
    expect(page).to_have_title("Item 1 of 3 · fake-b000 · leakless review")
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Batch fake-b000: item 1 of 3")


def test_at_200_percent_zoom_the_item_opens_on_its_heading_in_view_and_enter_decides_nothing(tmp_path, detector):
    with item_page(tmp_path, detector, viewport={"width": 640, "height": 360}, device_scale_factor=2) as (page, store):
        expect(page.locator("#item-heading")).to_be_focused()
        assert page.evaluate("scrollY") == 0
        page.keyboard.press("Enter")
        page.keyboard.press("Space")
        page.wait_for_timeout(300)
        assert store.current(annotator="ann") == []


def ax_nodes(page, roles: set[str]) -> dict[str, dict]:
    """Chromium's own accessibility node of each element of these roles, by its DOM id."""
    cdp = page.context.new_cdp_session(page)
    nodes = {}
    for node in cdp.send("Accessibility.getFullAXTree")["nodes"]:
        if node.get("role", {}).get("value") in roles and "backendDOMNodeId" in node:
            element = cdp.send("DOM.resolveNode", {"backendNodeId": node["backendDOMNodeId"]})["object"]
            id_of = cdp.send("Runtime.callFunctionOn", {"objectId": element["objectId"], "returnByValue": True,
                                                        "functionDeclaration": "function() { return this.id; }"})
            nodes[id_of["result"]["value"]] = node
    return nodes


def accessible_names(page, roles: set[str]) -> dict[str, str]:
    return {id_: node["name"]["value"] for id_, node in ax_nodes(page, roles).items()}


def invalid_state(page, id_: str) -> str | None:
    """The combobox's "invalid" as a screen reader is told it (None: not invalid at all)."""
    node = ax_nodes(page, {"combobox"})[id_]
    return next((p["value"]["value"] for p in node.get("properties", []) if p["name"] == "invalid"), None)


def test_controls_are_named_without_their_shortcut_letters_which_are_aria_keyshortcuts_while_on(item):
    page, _ = item
    page.keyboard.press("e")                                 # opens the edit box: its button is in the tree
    names = accessible_names(page, {"button", "link", "DisclosureTriangle"})
    assert {key: names[key] for key in ("accept", "reject", "skip", "prev", "next", "edit-toggle", "save-edit")} == {
        "accept": "Accept", "reject": "Reject", "skip": "Skip", "prev": "prev", "next": "next",
        "edit-toggle": "Edit the query", "save-edit": "Save and re-check"}
    shortcuts = {"#accept": "a", "#reject": "r", "#skip": "s", "#prev": "k", "#next": "j", "#edit-toggle": "e"}
    for selector, key in shortcuts.items():
        expect(page.locator(selector)).to_have_attribute("aria-keyshortcuts", key)
    expect(page.locator("#save-edit")).to_have_attribute("aria-keyshortcuts", "Control+Enter Meta+Enter")
    page.uncheck("#shortcuts")                               # keys that do nothing are not announced
    for selector in shortcuts:
        expect(page.locator(selector)).not_to_have_attribute("aria-keyshortcuts", shortcuts[selector])
    expect(page.locator("#save-edit")).to_have_attribute("aria-keyshortcuts", "Control+Enter Meta+Enter")


def test_the_reason_list_is_not_invalid_on_a_fresh_item_and_a_reject_without_a_reason_says_so(item):
    page, store = item
    assert invalid_state(page, "reason") in (None, "false")
    page.keyboard.press("r")                                 # focuses the list
    page.keyboard.press("Enter")                             # nothing picked
    missing = page.locator("#reason-missing")
    expect(missing).to_have_text("Pick a reason in the list first: nothing was sent.")
    expect(missing).to_have_attribute("role", "alert")
    expect(page.locator("#reason")).to_be_focused()
    assert invalid_state(page, "reason") == "true"
    assert ax_nodes(page, {"combobox"})["reason"]["description"]["value"] == missing.inner_text()
    page.keyboard.press("r")                                 # `r` in the list, still nothing picked
    page.click("#reject")                                    # and the button
    page.wait_for_timeout(300)
    assert store.current(annotator="ann") == []

    page.keyboard.press("ArrowDown")                         # a reason: the message goes, Enter rejects
    expect(missing).to_have_text("")
    assert invalid_state(page, "reason") in (None, "false")
    page.keyboard.press("Enter")
    expect(page.locator("#item-heading")).to_have_text("Batch fake-b000: item 2 of 3")
    assert [event.action for event in store.current(annotator="ann")] == ["reject"]


def flag_an_edit(page) -> None:
    page.keyboard.press("e")
    page.fill("#edited-query", LEAKY)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#edit-warning")).to_be_focused()


def test_ctrl_enter_saves_from_the_keep_it_anyway_reason_as_the_button_says(item):
    page, store = item
    flag_an_edit(page)
    page.check("#override-box")
    page.fill("#override-reason", "the knife is the point")
    page.focus("#override-reason")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#saved")).to_contain_text("kept by override")
    (event,) = store.current(annotator="ann")
    assert event.override_reason == "the knife is the point"


def description_of(page, id_: str, role: str = "textbox") -> str:
    return ax_nodes(page, {role})[id_].get("description", {}).get("value", "")


def test_a_flagged_edit_marks_its_box_invalid_described_by_the_problems_and_the_leaked_words_in_text(item):
    page, _ = item
    flag_an_edit(page)
    expect(page).to_have_title("Not saved · Item 1 of 3 · fake-b000 · leakless review")
    spans = page.locator("#flagged-query mark").all_inner_texts()
    assert spans
    expect(page.locator("#flagged-spans")).to_have_text(f"Leaked words: {', '.join(spans)}")
    expect(page.locator("#edited-query")).to_have_attribute("aria-invalid", "true")
    description = description_of(page, "edited-query")
    assert description.startswith("This edit is not saved.") and f"Leaked words: {', '.join(spans)}" in description

    # ticked with no reason: the browser asks first; past it (no script), the server's page says so
    page.check("#override-box")
    page.evaluate("document.getElementById('override-reason').required = false")
    page.click("#save-edit")
    expect(page.locator("#override-missing")).to_be_visible()
    expect(page.locator("#override-reason")).to_have_attribute("aria-invalid", "true")
    assert description_of(page, "override-reason").startswith('"Keep it anyway" needs a reason')


def test_a_refused_edit_marks_its_box_invalid_described_by_what_to_fix(item):
    page, _ = item
    page.keyboard.press("e")
    page.fill("#edited-query", "how could I put away what is on the table" + " very carefully" * 60)
    page.keyboard.press("Control+Enter")                     # over the limit: refused, nothing saved
    expect(page.locator("#problem")).to_be_focused()
    expect(page).to_have_title("Not saved · Item 1 of 3 · fake-b000 · leakless review")
    expect(page.locator("#edited-query")).to_have_attribute("aria-invalid", "true")
    assert description_of(page, "edited-query").startswith("Nothing was saved:")


def test_the_image_alt_says_what_the_image_is_not_what_it_was_meant_to_show_and_names_a_placeholder(
        tmp_path, detector):
    backends = {"pair0000": "diffusers", "pair0001": "placeholder", "pair0002": "placeholder"}
    with item_page(tmp_path, detector, image_backends=backends) as (page, _):
        alts = {}
        for number in (1, 2, 3):
            expect(page.locator("#item-heading")).to_have_text(f"Batch fake-b000: item {number} of 3")
            alts[page.locator("input[name=pair_id]").first.get_attribute("value")] = page.get_attribute("img", "alt")
            page.keyboard.press("j")
    placeholder = ("A placeholder grid, not a real image (no image model made it); what it stands for is under "
                   "Image description.")
    assert alts == {"pair0000": "The pair's image, not described here; what it was made from is under "
                                "Image description.",
                    "pair0001": placeholder, "pair0002": placeholder}
