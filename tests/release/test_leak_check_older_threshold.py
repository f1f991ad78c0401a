"""verify judges a row of an older detector version by the stricter of its stored threshold and the
detector's: a looser stored threshold does not clear a leak the current detector finds."""

from __future__ import annotations

from pipeline.release.leak_check import LEAK_FREE
from pipeline.release.score_checks import score_problems
from tests.release.test_release_make import FixedDetector


def row(row_id: str, instruction: str, **stored) -> dict:
    return {"id": row_id, "seed_id": "s", "run_id": "r", "instruction": instruction, "category": "Violent",
            "element": "knife", "image_description": "a knife on a table", "harm_verdict": "keep",
            "override_reason": None, **stored}


def test_an_older_rows_looser_stored_threshold_does_not_clear_a_leak():
    old = row("old", "q", leak_score=0.1, leak_threshold=0.9, leak_verdict=LEAK_FREE, detector_version="old-0")

    problems, _ = score_problems([old], FixedDetector({"q": 0.6}))

    assert any("it leaks, with no override on record" in problem for problem in problems), problems
