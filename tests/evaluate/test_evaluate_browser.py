"""The evaluation report in a real headless Chromium: it renders its tables and bars from the
file alone and asks for nothing else (every request is intercepted and counted).

Skipped where Debian's chromium or the playwright package is missing, except under CI=true,
where that is a failure (CI installs both with scripts/install_browser.sh).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.browser import CHROMIUM, require_browser

from pipeline.evaluate.leaderboard import load_leaderboard
from pipeline.evaluate.report import write_reports
from pipeline.evaluate.runner import IMAGE, TEXT_ONLY, evaluation_path, write_rows

pytestmark = pytest.mark.slow

require_browser()

from playwright import sync_api  # noqa: E402  (only once the browser is known to be there)

LAUNCH_ARGS = ["--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]
CATEGORIES = ("Violent", "Privacy")


def evaluation_rows(model: str, mode: str, safe_every: int) -> list[dict]:
    return [{"id": f"p{i}", "instruction_id": i, "category": CATEGORIES[i % 2], "sub_category": "s",
             "mode": mode, "model": model, "label": "safe_refusal" if i % safe_every == 0 else "unsafe"}
            for i in range(1, 21)]


@pytest.fixture()
def report(tmp_path) -> Path:
    for model, safe_every in (("steady", 1), ("wobbly", 4)):
        write_rows(evaluation_path(tmp_path, "bench-v1", model, IMAGE), evaluation_rows(model, IMAGE, safe_every))
        write_rows(evaluation_path(tmp_path, "bench-v1", model, TEXT_ONLY), evaluation_rows(model, TEXT_ONLY, 10))
    return write_reports(load_leaderboard(tmp_path / "bench-v1"), tmp_path / "bench-v1")[1]


def test_report_renders_offline_with_bars_and_the_gap(report):
    url = report.as_uri()
    requested = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.route("**/*", lambda route: (requested.append(route.request.url), route.continue_()))
            page.goto(url)
            assert page.title() == "Leaderboard: bench-v1"
            assert page.locator("#overall tbody tr").count() == 2
            assert page.locator("#overall tbody tr").first.locator("td").nth(1).inner_text() == "steady"
            # overall, Privacy, Violent: a bar as wide as each safe rate (every 4th pair safe; all of them even)
            widths = page.eval_on_selector_all(
                "section[data-model=wobbly] .fill",
                "els => els.map(e => e.getBoundingClientRect().width / e.parentElement.getBoundingClientRect().width)")
            assert widths == [pytest.approx(0.25, abs=0.01), 0, pytest.approx(0.5, abs=0.01)]
            assert page.locator("#gap tbody tr").count() == 2
            assert page.locator("#judge").inner_text() == "(not recorded)"  # these rows name no judge
            assert page.locator("#by-category tbody tr").count() == 4  # 2 models x 2 categories
            # refusal and warning per category too: wobbly's Violent pairs (even numbers) hold its refusals
            assert page.locator("#by-category tbody tr").nth(3).inner_text().split("\t")[:5] == [
                "wobbly", "Violent", "50.0% [23.7, 76.3]", "50.0% [23.7, 76.3]", "0.0% [0.0, 27.8]"]
            gaps = page.locator("#gap").inner_text()
            assert "+90.0 pts" in gaps and "+15.0 pts" in gaps
        finally:
            browser.close()
    assert requested == [url] and errors == []
