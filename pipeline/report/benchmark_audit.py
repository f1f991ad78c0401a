"""`leakless audit` of an existing benchmark, chunk by chunk: read, score, write, count.

Memory is bounded by the chunk size (plus one id per row, to report duplicate
ids), so a file of any length can be audited; the counts the command prints
are kept here as the chunks pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.detect import LeakDetector, LeakScore
from pipeline.detect.evaluate import to_inputs
from pipeline.io.audit_table import AuditTableWriter
from pipeline.io.external import BenchmarkReader, BenchmarkRow, Reject
from pipeline.io.records import Position

NO_CATEGORY = "(none)"
EXAMPLES = 5  # rejects and duplicate ids shown in the summary; the rejects file has them all


@dataclass
class CategoryCount:
    pairs: int = 0
    leaky: int = 0


@dataclass
class AuditSummary:
    categories: dict[str, CategoryCount] = field(default_factory=dict)
    text_only: int = 0
    rejected: int = 0
    reject_examples: list[Reject] = field(default_factory=list)
    duplicate_ids: int = 0  # rows whose id an earlier row already had
    duplicate_examples: list[tuple[str, Position, Position]] = field(default_factory=list)  # id, first, again
    _first_seen: dict[str, int] = field(default_factory=dict, repr=False)  # id -> its first row's number

    @property
    def audited(self) -> int:
        return sum(count.pairs for count in self.categories.values())

    @property
    def leaky(self) -> int:
        return sum(count.leaky for count in self.categories.values())

    def add(self, rows: list[BenchmarkRow], scores: list[LeakScore], rejects: list[Reject]) -> None:
        for row, score in zip(rows, scores):
            count = self.categories.setdefault(row.category or NO_CATEGORY, CategoryCount())
            count.pairs += 1
            count.leaky += score.leak
            self.text_only += row.text_only
            first = self._first_seen.get(row.id)
            if first is None:
                self._first_seen[row.id] = row.position.number
                continue
            self.duplicate_ids += 1
            if len(self.duplicate_examples) < EXAMPLES:
                self.duplicate_examples.append((row.id, Position(row.position.unit, first), row.position))
        self.rejected += len(rejects)
        self.reject_examples.extend(rejects[:EXAMPLES - len(self.reject_examples)])


def audit_benchmark(reader: BenchmarkReader, detector: LeakDetector, writer: AuditTableWriter,
                    chunk_size: int, strict: bool = False,
                    advance: Callable[[int], None] = lambda entries: None) -> AuditSummary:
    """Every row of `reader` scored by `detector` into `writer` (an entered writer), `chunk_size`
    entries at a time; `advance` hears how many entries each chunk held. A `ValueError` (so
    the writer keeps nothing) when no row could be audited, or at the first reject if `strict`."""
    summary = AuditSummary()
    for rows, rejects in reader.chunks(chunk_size):
        if strict and rejects:
            raise ValueError(f"{reader.path}: {rejects[0].describe()} (--strict stops at the first unreadable row)")
        scores = detector.score(to_inputs(rows))
        writer.write(rows, scores, rejects)
        summary.add(rows, scores, rejects)
        advance(len(rows) + len(rejects))
    if not summary.audited:
        first = summary.reject_examples[0].describe() if summary.reject_examples else "no rows"
        raise ValueError(f"{reader.path}: no row could be audited ({summary.rejected} rejected; first: {first})")
    return summary
