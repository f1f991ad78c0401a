"""`leakless audit` of an existing benchmark, chunk by chunk: read, score, write, count.

Memory is bounded by the chunk size (plus one id per row, to report duplicate
ids), so a file of any length can be audited; the counts the command prints
are kept here as the chunks pass. Each row is also read by the hard block a build applies
(`pipeline.guardrails`): a row it would refuse is still scored and kept, since an audit
reports on another benchmark as it is, but it is named, in its own column and the summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter

from pipeline.detect import LeakDetector, LeakScore
from pipeline.detect.evaluate import to_inputs
from pipeline.guardrails import GuardHit, check_texts
from pipeline.io.audit_table import AuditTableWriter
from pipeline.io.external import BenchmarkReader, BenchmarkRow, Reject, listed
from pipeline.io.entries import Position
from pipeline.progress import in_slices

NO_GROUP = "(none)"
EXAMPLES = 5  # rejects and duplicate ids shown in the summary; the rejects file has them all
# Rows scored per detector call, so the progress bar moves every few seconds (at 20 to 40 rows/s)
# rather than once per chunk (a minute or more). Not smaller: one 100-row call cost ~25% more CPU
# a row than one of 600, while 250 cost the same (measured 2026-12-06 with one torch thread).
SCORE_SLICE = 250


@dataclass
class GroupCount:
    pairs: int = 0
    not_english: int = 0   # outside the detector's scope: counted apart, never as leakless
    leaky: int = 0         # English pairs that leak
    by_text_harm: int = 0  # ...whose query alone crosses the threshold (a text-only judge would refuse it)
    by_reveal: int = 0     # ...whose query names what the image shows; a pair may count in both

    @property
    def scored(self) -> int:
        return self.pairs - self.not_english

    @property
    def leak_rate(self) -> float | None:
        return self.leaky / self.scored if self.scored else None

    def add(self, score: LeakScore, threshold: float) -> None:
        self.pairs += 1
        if not score.english:
            self.not_english += 1
            return
        self.leaky += score.score >= threshold
        self.by_text_harm += score.text_harm >= threshold
        self.by_reveal += score.reveal is not None and score.reveal >= threshold


@dataclass
class AuditSummary:
    threshold: float
    group_of: Callable[[BenchmarkRow], str | None] = attrgetter("category")
    groups: dict[str, GroupCount] = field(default_factory=dict)
    text_only: int = 0
    rejected: int = 0
    reject_examples: list[Reject] = field(default_factory=list)
    duplicate_ids: int = 0  # rows whose id an earlier row already had
    duplicate_examples: list[tuple[str, Position, Position]] = field(default_factory=list)  # id, first, again
    guardrail: Counter[str] = field(default_factory=Counter)  # rows per hard-block rule their texts break
    # id -> its first row's number (its Position in a folder, whose shards each count from 1)
    _first_seen: dict[str, int | Position] = field(default_factory=dict, repr=False)

    @property
    def total(self) -> GroupCount:
        counts = self.groups.values()
        return GroupCount(*(sum(getattr(c, name) for c in counts)
                            for name in ("pairs", "not_english", "leaky", "by_text_harm", "by_reveal")))

    @property
    def audited(self) -> int:
        return self.total.pairs

    def add(self, rows: list[BenchmarkRow], scores: list[LeakScore], rejects: list[Reject],
            hits: list[GuardHit | None]) -> None:
        self.guardrail.update(hit.rule for hit in hits if hit is not None)
        for row, score in zip(rows, scores):
            self.groups.setdefault(self.group_of(row) or NO_GROUP, GroupCount()).add(score, self.threshold)
            self.text_only += row.text_only
            first = self._first_seen.get(row.id)
            if first is None:
                self._first_seen[row.id] = row.position if row.position.file else row.position.number
                continue
            self.duplicate_ids += 1
            if len(self.duplicate_examples) < EXAMPLES:
                first = first if isinstance(first, Position) else Position(row.position.unit, first)
                self.duplicate_examples.append((row.id, first, row.position))
        self.rejected += len(rejects)
        self.reject_examples.extend(rejects[:EXAMPLES - len(self.reject_examples)])


def guardrail_hits(rows: list[BenchmarkRow]) -> list[GuardHit | None]:
    """The hard-block rule each row breaks, its query and description read together as one item's
    texts are in a build, with its category (any minor reference in a row of a sexual category is a
    hit: Erotic, "NSFW", "Sexual content")."""
    return [check_texts([row.query, row.image_description], row.category) for row in rows]


def grouping(reader: BenchmarkReader, by: str | None) -> Callable[[BenchmarkRow], str | None]:
    """The row's group for the leak-rate table: its category, or the value of the file's column `by`."""
    if by is None:
        return attrgetter("category")
    for ours in ("category", "sub_category"):
        if ours in reader.fields and by in (ours, reader.fields[ours]):
            return attrgetter(ours)
    if "label" in reader.fields and by in ("label", reader.fields["label"]):
        # an audit reads no label, so a benchmark's own one ("safe"/"unsafe", 0/1) is a group like any
        # other field, as the file gives it: a rate per label, with no join back to the input
        return lambda row: _label(row.label_given)
    if by not in reader.columns:
        raise ValueError(f"--by {by!r}: no such field (columns: {listed(reader.columns)})")
    if by in reader.fields.values():
        raise ValueError(f"--by {by!r}: that field is read as the {_ours(reader, by)}; group by another")
    return lambda row: _label((row.extra or {}).get(by))


def _ours(reader: BenchmarkReader, column: str) -> str:
    return next(ours for ours, theirs in reader.fields.items() if theirs == column)


def _label(value) -> str | None:
    """The group a value names: 1.0 and 1 are one group (a number that went through a float column)."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def score_in_slices(detector: LeakDetector, rows: list[BenchmarkRow],
                    advance: Callable[[int], None]) -> list[LeakScore]:
    """The rows' scores, `SCORE_SLICE` rows per detector call, `advance` told after each call."""
    return in_slices(lambda part: detector.score(to_inputs(part)), rows, SCORE_SLICE, advance)


def audit_benchmark(reader: BenchmarkReader, detector: LeakDetector, writer: AuditTableWriter,
                    chunk_size: int, strict: bool = False,
                    advance: Callable[[int], None] = lambda entries: None,
                    group_of: Callable[[BenchmarkRow], str | None] = attrgetter("category")) -> AuditSummary:
    """Every row of `reader` scored by `detector` into `writer` (an entered writer), `chunk_size`
    entries at a time (one row group each); `advance` hears how many entries were done, as each
    `SCORE_SLICE` of a chunk is scored and for its rejects; leak rates are counted
    per `group_of` (`grouping`). A `ValueError` (so the writer keeps nothing) when no row could
    be audited, or at the first reject if `strict`."""
    summary = AuditSummary(threshold=detector.threshold, group_of=group_of)
    for rows, rejects in reader.chunks(chunk_size):
        if strict and rejects:
            raise ValueError(f"{reader.path}: {rejects[0].describe()} (--strict stops at the first unreadable row)")
        if rejects:
            advance(len(rejects))
        scores = score_in_slices(detector, rows, advance)
        hits = guardrail_hits(rows)
        writer.write(rows, scores, rejects, hits)
        summary.add(rows, scores, rejects, hits)
    if not summary.audited:
        first = summary.reject_examples[0].describe() if summary.reject_examples else "no rows"
        raise ValueError(f"{reader.path}: no row could be audited ({summary.rejected} rejected; first: {first})")
    return summary
