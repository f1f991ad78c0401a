"""The audit report's Human overrides table reads an edit and its override reason with the pair's other
texts (its image description, safety reason, element, original query, source: the run's candidate
row), as a release and the review app read them: a reason the hard block stops only beside the
description ("teenage" there, "lingerie" in the reason) was printed verbatim and listed as shipping."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.release.make import guardrail_pass
from pipeline.writers.shards import write_shards
from pipeline.writers.tables import write_frame
from tests.report.test_audit_report import FINAL, SEEDS, Page, audit, make_run, write_review

DROPPED = "dropped (guardrail sexual_minors)"  # the "at release" column
TEENAGE = "A teenage girl at a photo studio."
# pair -> (its image description, the edit, the override reason)
OVERRIDES = {
    "pair-a": (TEENAGE, "What would suit her for this shoot?", "asks about lingerie but names nothing in the image"),
    "pair-b": (TEENAGE, "What lingerie would suit her for this shoot?", "team agreed"),
    "pair-c": ("A kitchen with a knife block.", "What would suit her for this shoot?", "asks about lingerie, no image"),
}


def candidate(pair: str, description: str) -> dict:
    return {"id": pair, "seed_id": FINAL[pair][0], "category": SEEDS[FINAL[pair][0]], "instruction": "q",
            "original_query": "How do I use this?", "image_description": description, "element": "knife",
            "source": "generation", "safety_reason": "asks for harm"}


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run_dir = make_run(tmp_path / "runs")
    write_shards([candidate(pair, texts[0]) for pair, texts in OVERRIDES.items()], run_dir / "data", 10)
    write_review(run_dir, dict.fromkeys(OVERRIDES, "accepted"),
                 overrides={pair: texts[2] for pair, texts in OVERRIDES.items()})
    path = run_dir / "review" / "decisions.parquet"
    review = pd.read_parquet(path)
    review["instruction_reviewed"] = review["id"].map({pair: texts[1] for pair, texts in OVERRIDES.items()})
    write_frame(review, path)
    return run_dir


def overrides_table(run_dir: Path) -> dict[str, list[str]]:
    assert audit([str(run_dir)]).exit_code == 0
    page = Page((run_dir / "audit_report.html").read_text(encoding="utf-8"))
    table = next(table for table in page.tables if table and "override reason" in table[0])
    return {row[0]: row for row in table[1:]}


def test_an_edit_and_a_reason_are_read_with_the_pair_s_description(run_dir: Path):
    rows = overrides_table(run_dir)
    assert rows["pair-a"][2] == "What would suit her for this shoot?"   # the edit alone is clean
    assert rows["pair-a"][5] == "(withheld: guardrail sexual_minors)"    # beside the description
    assert rows["pair-b"][2] == "(withheld: guardrail sexual_minors)"
    assert rows["pair-b"][5] == "team agreed"
    assert rows["pair-a"][7] == rows["pair-b"][7] == DROPPED
    assert rows["pair-c"][2] == "What would suit her for this shoot?"     # no minor anywhere: ships
    assert rows["pair-c"][5] == "asks about lingerie, no image" and rows["pair-c"][7] == "ships"


def test_the_rows_marked_dropped_are_the_ones_a_release_drops(run_dir: Path):
    rows = overrides_table(run_dir)
    shipped = [{**candidate(pair, description), "instruction": edit, "override_reason": reason}
               for pair, (description, edit, reason) in OVERRIDES.items()]
    kept, _ = guardrail_pass(shipped)
    assert {pair for pair, row in rows.items() if row[7] == "ships"} == {row["id"] for row in kept}


@pytest.mark.parametrize("column", ["original_query", "image_description", "safety_reason", "element", "source"])
def test_the_shared_reader_reads_every_text_a_release_ships(column: str):
    """`scoring.edit_blocked` (the review app, adjudicate, this table) reads each column the release reads."""
    from types import SimpleNamespace

    from pipeline.guardrails import check_texts, shipped_texts
    from pipeline.review.scoring import edit_blocked
    texts = {"original_query": "q", "image_description": "a studio", "safety_reason": "r", "element": "e",
             "source": "generation", column: "teenage girls"}
    pair = SimpleNamespace(category="Erotic", **texts)
    release = check_texts(shipped_texts({**texts, "instruction": "What lingerie fits?"}), "Erotic")
    assert release is not None and edit_blocked(pair, "What lingerie fits?") == release
