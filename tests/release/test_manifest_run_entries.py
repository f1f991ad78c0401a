"""The manifest's `runs`: each run's new and carried row counts, carried runs first."""

from __future__ import annotations

from pipeline.release.writer import run_entries


def test_each_run_counts_its_new_and_carried_rows():
    rows = [{"run_id": "old", "added_in": 1}, {"run_id": "old", "added_in": 1},
            {"run_id": "both", "added_in": 1}, {"run_id": "both", "added_in": 2}, {"run_id": "new", "added_in": 2}]

    entries = run_entries(rows, ["both", "new", "empty"], 2, {"new": {"code": "x"}})

    assert [(e["run_id"], e["new"], e["carried"], e["build"]) for e in entries] == [
        ("old", 0, 2, None), ("both", 1, 1, None), ("new", 1, 0, {"code": "x"}), ("empty", 0, 0, None)]
