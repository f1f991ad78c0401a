"""The audit report's "Human overrides" table shows an override reason the hard block stops as
`(withheld: guardrail <rule>)`, as other kept human and model text is: the review app refuses such a
reason now, but a review store or decisions file from before still holds it. It is read beside the
edit, as the app reads it; a clean reason is shown as written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.writers.tables import write_frame
from tests.report.test_audit_report import Page, audit, make_run, write_review

PHONE_REASON = "Her number is 555-867-5309"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path / "runs")


def overrides_table(run_dir: Path) -> list[list[str]]:
    assert audit([str(run_dir)]).exit_code == 0
    html = (run_dir / "audit_report.html").read_text(encoding="utf-8")
    assert "555-867" not in html
    return next(table for table in Page(html).tables if table and "override reason" in table[0])


def reasons(table: list[list[str]]) -> dict[str, str]:
    return {row[0]: row[5] for row in table[1:]}


def test_a_blocked_override_reason_is_withheld_and_a_clean_one_shown(run_dir: Path):
    write_review(run_dir, {"pair-a": "accepted", "pair-b": "accepted"},
                 overrides={"pair-a": PHONE_REASON, "pair-b": "kitchen scene"})
    assert reasons(overrides_table(run_dir)) == {"pair-a": "(withheld: guardrail private_person:phone)",
                                                 "pair-b": "kitchen scene"}


def test_an_override_reason_is_read_beside_the_edit(run_dir: Path):
    """A minor in the edit and a sexual word in the reason are one hit, as the review app reads them."""
    write_review(run_dir, {"pair-a": "accepted"}, overrides={"pair-a": "lingerie is what the shoot is about"})
    path = run_dir / "review" / "decisions.parquet"
    review = pd.read_parquet(path).assign(instruction_reviewed="What would look good on the teenage girl?")
    write_frame(review, path)
    assert reasons(overrides_table(run_dir)) == {"pair-a": "(withheld: guardrail sexual_minors)"}
