"""`leakless audit`'s progress: the bar moves as rows are scored, not once per chunk, and scoring a
chunk in slices leaves the output as it was (the same Parquet bytes, one row group per chunk).

A stand-in detector that scores a row from its text alone (as the real one does, but for float
rounding with the batch's shape): whatever the slices, the same rows give the same bytes."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import pipeline.report.benchmark_audit as benchmark_audit
from pipeline.detect import LeakScore
from pipeline.io.audit_table import AuditTableWriter
from pipeline.io.external import BenchmarkReader
from pipeline.report.benchmark_audit import audit_benchmark

ROWS = 700


class TextOnlyDetector:
    """Scores each row from its own text; records the size of each call and the entries the
    progress had heard of when it came."""
    threshold = 0.5

    def __init__(self, advanced: list[int]):
        self.advanced = advanced
        self.calls: list[int] = []
        self.done_at_call: list[int] = []

    def score(self, items) -> list[LeakScore]:
        self.calls.append(len(items))
        self.done_at_call.append(sum(self.advanced))
        return [self._one(item.query) for item in items]

    def _one(self, query: str) -> LeakScore:
        value = zlib.crc32(query.encode()) / 2 ** 32
        return LeakScore(score=value, text_harm=value, reveal=None, signals={"text_harm": value},
                         spans=(), leak=value >= self.threshold)


def benchmark(folder: Path) -> Path:
    path = folder / "bench.jsonl"
    lines = [json.dumps({"id": f"r{n}", "query": f"How do I do thing {n}?", "category": "c"}) for n in range(ROWS)]
    lines[17] = "{not json"  # a reject, counted with its chunk
    path.write_text("\n".join(lines) + "\n")
    return path


def audit(source: Path, out: Path, chunk_size: int) -> tuple[list[int], TextOnlyDetector]:
    advanced: list[int] = []
    detector = TextOnlyDetector(advanced)
    reader = BenchmarkReader(source, require_description=False)
    with AuditTableWriter(out, out.with_suffix(".rejects.jsonl"), {"source": source.name}, 0.5) as writer:
        audit_benchmark(reader, detector, writer, chunk_size, advance=advanced.append)
    return advanced, detector


def test_the_progress_moves_within_a_chunk_and_reaches_every_entry(tmp_path):
    advanced, detector = audit(benchmark(tmp_path), tmp_path / "a.parquet", chunk_size=2000)
    # One chunk holds the whole file (699 rows and a reject): the bar moved while it was scored.
    assert detector.calls == [250, 250, 199]
    assert detector.done_at_call == [1, 251, 501]
    assert sum(advanced) == ROWS and 0 not in advanced


def test_scoring_in_slices_writes_the_bytes_one_call_per_chunk_wrote(tmp_path, monkeypatch):
    source = benchmark(tmp_path)
    sliced = tmp_path / "sliced.parquet"
    audit(source, sliced, chunk_size=300)
    monkeypatch.setattr(benchmark_audit, "SCORE_SLICE", 10 ** 9)  # the whole chunk in one call, as before
    whole = tmp_path / "whole.parquet"
    _, detector = audit(source, whole, chunk_size=300)
    assert detector.calls == [299, 300, 100]  # the reject on line 18 is in the first chunk
    assert sliced.read_bytes() == whole.read_bytes()
    assert pq.ParquetFile(sliced).metadata.num_row_groups == 3


@pytest.mark.parametrize("chunk_size", [1, 7])
def test_chunks_smaller_than_a_slice_are_scored_whole(tmp_path, chunk_size):
    advanced, detector = audit(benchmark(tmp_path), tmp_path / "a.parquet", chunk_size=chunk_size)
    assert max(detector.calls) == chunk_size and sum(advanced) == ROWS
