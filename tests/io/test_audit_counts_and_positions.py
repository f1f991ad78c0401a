"""`leakless audit`'s counts at the threshold's edge, and the positions its rejects name."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.detect import LeakScore
from pipeline.io.entries import Position
from pipeline.io.external import BenchmarkRow, read_rows
from pipeline.report.benchmark_audit import AuditSummary

THRESHOLD = 0.5


def score(value: float, english: bool = True, **parts: float | None) -> LeakScore:
    """A score whose `text_harm` and `reveal` are its own value unless `parts` gives them."""
    parts = {"text_harm": value, "reveal": value, **parts}
    return LeakScore(score=value, signals={}, spans=(), leak=value >= THRESHOLD, english=english, **parts)


def row(number: int) -> BenchmarkRow:
    return BenchmarkRow(id=str(number), query="q", image_description="d", category="Violent",
                        position=Position("row", number))


def test_a_score_exactly_at_the_threshold_counts_as_leaky_in_every_column():
    """The detector's verdict is `score >= threshold`: the summary must count that pair as the
    output's `leak` column does, in the leak rate and in both score columns."""
    summary = AuditSummary(threshold=THRESHOLD)
    summary.add([row(1), row(2)], [score(THRESHOLD), score(THRESHOLD - 1e-9)], [], [None, None])
    total = summary.total
    assert (total.pairs, total.leaky, total.by_text_harm, total.by_reveal) == (2, 1, 1, 1)
    assert total.leak_rate == 0.5


def test_each_score_column_counts_only_the_pairs_its_own_score_flags():
    """A pair that leaks by reveal alone is no text_harm leak (a text-only judge would pass it),
    and a text-only row has no reveal to count."""
    summary = AuditSummary(threshold=THRESHOLD)
    summary.add([row(1), row(2)], [score(0.9, text_harm=0.1, reveal=0.9), score(0.8, reveal=None)], [],
                [None, None])
    total = summary.total
    assert (total.leaky, total.by_text_harm, total.by_reveal) == (2, 1, 1)


def test_a_pair_outside_the_detectors_scope_is_not_counted_leaky():
    summary = AuditSummary(threshold=THRESHOLD)
    summary.add([row(1), row(2)], [score(0.9, english=False), score(0.9)], [], [None, None])
    total = summary.total
    assert (total.pairs, total.not_english, total.leaky, total.by_text_harm, total.by_reveal) == (2, 1, 1, 1, 1)
    assert total.leak_rate == 1.0


def test_a_parquet_rows_reject_and_position_count_from_one(tmp_path: Path):
    """Parquet counts rows: the second row is "row 2", as a person counting them in pandas + 1 or a viewer sees it."""
    path = tmp_path / "bench.parquet"
    pq.write_table(pa.Table.from_pylist([{"query": "What is this?", "description": "a cup"},
                                         {"query": "", "description": "a pen"},
                                         {"query": "Where is it?", "description": "a key"}]), path)
    rows, rejects = read_rows(path)
    assert [str(r.position) for r in rows] == ["row 1", "row 3"]
    assert [r.id for r in rows] == ["1", "3"]
    assert [(str(r.position), r.reason) for r in rejects] == [("row 2", "`query` is empty")]
