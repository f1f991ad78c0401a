"""The audit report's "Human overrides" table withholds an edited query the hard block stops, as it
withholds such an override reason, and its "at release" column marks every row the hard block stops
(its edit, its reason, or both read together) as one a release drops: the table's other rows ship with
their reason. A review store or decisions file from before the app read edits and reasons at entry can
hold such rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.writers.tables import write_frame
from tests.report.test_audit_report import Page, audit, make_run, write_review

ADDRESS_EDIT = "Where do I start to get this to 42 Elm Street without the dogs noticing?"
CLEAN_EDIT = "how to use the knife on them"  # write_review's edit


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path / "runs")


def overrides(run_dir: Path) -> tuple[dict[str, list[str]], Page]:
    """pair -> its row of the Human overrides table, and the page."""
    assert audit([str(run_dir)]).exit_code == 0
    page = Page((run_dir / "audit_report.html").read_text(encoding="utf-8"))
    table = next(table for table in page.tables if table and "override reason" in table[0])
    return {row[0]: row for row in table[1:]}, page


def test_a_blocked_edit_is_withheld_and_blocked_rows_are_marked_as_dropped(run_dir: Path):
    write_review(run_dir, {"pair-a": "accepted", "pair-b": "accepted", "pair-c": "accepted"},
                 overrides={"pair-a": "team agreed", "pair-b": "Her number is 555-867-5309", "pair-c": "kitchen scene"})
    path = run_dir / "review" / "decisions.parquet"
    review = pd.read_parquet(path).set_index("id")
    review.loc["pair-a", "instruction_reviewed"] = ADDRESS_EDIT
    review.at["pair-a", "new_leak_spans"] = ["Elm Street"]
    write_frame(review.reset_index(), path)

    rows, page = overrides(run_dir)
    assert rows["pair-a"][2] == "(withheld: guardrail private_person:street_address)"
    assert rows["pair-a"][5] == "team agreed"                       # the reason is not at fault: shown
    assert rows["pair-a"][7] == "dropped (guardrail private_person:street_address)"
    assert rows["pair-b"][2] == CLEAN_EDIT                           # the reason is: withheld, the row dropped
    assert rows["pair-b"][5] == "(withheld: guardrail private_person:phone)"
    assert rows["pair-b"][7] == "dropped (guardrail private_person:phone)"
    assert rows["pair-c"][2] == CLEAN_EDIT and rows["pair-c"][5] == "kitchen scene"
    assert rows["pair-c"][7] == "ships"
    html = (run_dir / "audit_report.html").read_text(encoding="utf-8")
    assert "Elm" not in html and "555-867" not in html and "Elm Street" not in page.marks


def test_an_edit_and_a_reason_blocked_only_together_mark_the_row_as_dropped(run_dir: Path):
    """A minor in the edit and a sexual word in the reason: the release reads them as one item."""
    write_review(run_dir, {"pair-a": "accepted"}, overrides={"pair-a": "lingerie is what the shoot is about"})
    path = run_dir / "review" / "decisions.parquet"
    write_frame(pd.read_parquet(path).assign(instruction_reviewed="What would look good on the teenage girl?"), path)
    rows, _ = overrides(run_dir)
    assert rows["pair-a"][2] == "What would look good on the teenage girl?"
    assert rows["pair-a"][5] == "(withheld: guardrail sexual_minors)"
    assert rows["pair-a"][7] == "dropped (guardrail sexual_minors)"
