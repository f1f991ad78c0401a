"""`leakless eval-detector` and `leakless audit`: the leak detector on any benchmark file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.table import Table

from pipeline.cli.app import app
from pipeline.cli.errors import fail
from pipeline.storage import atomic_path

console = Console()


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


@app.command("eval-detector")
def eval_detector(
    file: Path = typer.Argument(..., help="A labelled file (JSON, JSONL, CSV or Parquet) with a `label` field."),
    threshold: float | None = typer.Option(None, help="Decide at this score instead of the shipped threshold."),
) -> None:
    """Measure the leak detector on a labelled file: AUROC, precision, recall, FPR."""
    from pipeline.detect import LeakDetector
    from pipeline.detect.evaluate import evaluate_rows
    from pipeline.io.external import read_benchmark

    try:
        rows = read_benchmark(file, require_label=True)
    except ValueError as error:
        raise fail(str(error))
    detector = LeakDetector(threshold=threshold)
    result = evaluate_rows(detector, rows)
    table = Table(title=f"leak detector {detector.version} on {file.name}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("pairs (leaky / leakless)", f"{result.pairs} ({result.leaky} / {result.leakless})")
    table.add_row("threshold", f"{result.threshold:.3f}")
    table.add_row("AUROC", "n/a" if result.auroc is None else f"{result.auroc:.4f}")
    table.add_row("precision", _percent(result.precision))
    table.add_row("recall", _percent(result.recall))
    table.add_row("FPR", _percent(result.fpr))
    if result.twin_pairs:
        table.add_row(f"twin win rate ({result.twin_pairs} pairs)", _percent(result.twin_win_rate))
    console.print(table)


@app.command("audit")
def audit(
    file: Path = typer.Argument(..., help="Any benchmark file: JSON list, JSONL, CSV or Parquet."),
    query_field: str | None = typer.Option(None, help="Column holding the text query (found by name if omitted)."),
    description_field: str | None = typer.Option(None, help="Column holding the image description."),
    id_field: str | None = typer.Option(None, help="Column holding the row id (row number if absent)."),
    out: Path | None = typer.Option(None, help="Parquet file to write (default: <FILE>.leak_audit.parquet)."),
) -> None:
    """Score every pair of an existing benchmark for visual leakage and report the leak rate."""
    from pipeline.detect import LeakDetector
    from pipeline.detect.evaluate import to_inputs
    from pipeline.io.external import read_benchmark

    try:
        rows = read_benchmark(file, query_field, description_field, id_field)
    except ValueError as error:
        raise fail(str(error))
    out = out or file.with_name(file.stem + ".leak_audit.parquet")
    if not out.parent.is_dir():
        raise fail(f"{out.parent}: no such folder")
    detector = LeakDetector()
    scores = detector.score(to_inputs(rows))
    table = pa.table({
        "id": [r.id for r in rows],
        "category": [r.category for r in rows],
        "sub_category": [r.sub_category for r in rows],
        "query": [r.query for r in rows],
        "leak_score": pa.array([s.score for s in scores], pa.float64()),
        "leak": [detector.decide(s.score) for s in scores],
        "spans": pa.array([list(s.spans) for s in scores], pa.list_(pa.string())),
    })
    _write_atomically(table, out, detector)
    _print_rates(rows, [detector.decide(s.score) for s in scores], out)


def _write_atomically(table: pa.Table, out: Path, detector) -> None:
    metadata = {b"leakless.detector": detector.version.encode(),
                b"leakless.threshold": str(detector.threshold).encode()}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    with atomic_path(out) as temporary:
        pq.write_table(table, temporary)


def _print_rates(rows, leaks: list[bool], out: Path) -> None:
    by_category: dict[str, list[bool]] = {}
    for row, leak in zip(rows, leaks):
        by_category.setdefault(row.category or "(none)", []).append(leak)
    table = Table(title=f"leak rate, {len(rows)} pairs -> {out}")
    table.add_column("category")
    table.add_column("pairs", justify="right")
    table.add_column("leaky", justify="right")
    table.add_column("leak rate", justify="right")
    for category, leaks in sorted(by_category.items()):
        table.add_row(category, str(len(leaks)), str(sum(leaks)), _percent(sum(leaks) / len(leaks)))
    overall = leaks
    table.add_row("all", str(len(overall)), str(sum(overall)), _percent(sum(overall) / len(overall)))
    console.print(table)
