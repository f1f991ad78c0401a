"""`leakless audit-report`: a pair the leak filter judged more than once is reported by its last verdict."""

from __future__ import annotations

from pathlib import Path

from pipeline.report.audit import load_run, threshold_sweep
from pipeline.writers.tables import decisions_frame, write_frame
from tests.report.test_audit_report import RUN_ID, THRESHOLD, decision


def test_the_last_leak_filter_attempt_is_the_pairs_final_verdict(tmp_path: Path):
    """The first attempt leaked and was rewritten; the second passed and shipped. Taking the first
    would count a shipped pair as dropped in the histograms, the sweep and the review agreement."""
    run_dir = tmp_path / RUN_ID
    run_dir.mkdir()
    decisions = [decision("pair-r", "seed-violent", 0.2, "keep", attempt=2),  # stored out of order
                 decision("pair-r", "seed-violent", 0.8, "drop", attempt=1),
                 decision("pair-s", "seed-violent", 0.1, "keep")]
    write_frame(decisions_frame(decisions, RUN_ID), run_dir / "decisions.parquet")
    final = load_run(run_dir).final.set_index("item_id")
    assert final.loc["pair-r", ["attempt", "verdict", "score"]].tolist() == [2, "keep", 0.2]
    assert len(final) == 2
    shipped = next(row for row in threshold_sweep(final.reset_index()) if row.threshold == THRESHOLD)
    assert (shipped.kept, shipped.dropped, shipped.flips) == (2, 0, 0)


def test_a_sweep_step_outside_zero_to_one_is_named(tmp_path: Path):
    """step=0 was a bare ZeroDivisionError, a negative step silently swept no threshold but the shipped
    one, NaN a numpy 'arange' error (audit 'notebook')."""
    import math

    import pytest

    run_dir = tmp_path / RUN_ID
    run_dir.mkdir()
    write_frame(decisions_frame([decision("pair-s", "seed-violent", 0.1, "keep")], RUN_ID), run_dir / "decisions.parquet")
    final = load_run(run_dir).final
    for step in (0, -0.1, math.nan, 1.5):
        with pytest.raises(ValueError, match=r"a sweep step is a number in \(0, 1\]"):
            threshold_sweep(final, step=step)
    assert len(threshold_sweep(final, step=0.25)) == 5 + (THRESHOLD not in (0, 0.25, 0.5, 0.75, 1))
