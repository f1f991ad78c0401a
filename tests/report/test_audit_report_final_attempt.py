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
