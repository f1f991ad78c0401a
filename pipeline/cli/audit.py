"""`leakless audit`: score every pair of an existing benchmark file for visual leakage, in chunks."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from pipeline.cli.app import app
from pipeline.cli.console import output_console, percent
from pipeline.cli.detector import threshold_value
from pipeline.cli.errors import environment_errors, fail, nothing_written
from pipeline.cli.outputs import refuse_non_parquet, refuse_unwritable_outputs
from pipeline.cli.paths import home_expanded

console = output_console()


@app.command("audit")
def audit(
    file: Path = typer.Argument(..., callback=home_expanded, help="Any benchmark file: JSON list or object of records, JSONL, CSV "
                                          "(comma, semicolon or tab), TSV, each also compressed (.gz, .zst, .bz2, .xz), or Parquet; "
                                          "or a Hugging Face dataset folder: Parquet shards or a datasets save_to_disk folder."),
    split: str | None = typer.Option(None, help="The split of a dataset folder to audit (test for data/test-*.parquet); "
                                                "needed where the folder holds several."),
    query_field: str | None = typer.Option(None, help="Column holding the text query (found by name if omitted)."),
    description_field: str | None = typer.Option(
        None, help="Column holding the image description; rows without one are scored on the query alone."),
    id_field: str | None = typer.Option(None, help="Column holding the row id (the row's 1-based position if absent)."),
    out: Path | None = typer.Option(None, callback=home_expanded, help="Parquet file to write (default: <FILE>.leak_audit.parquet)."),
    rejects: Path | None = typer.Option(
        None, callback=home_expanded, help="JSON lines file listing each unreadable row: its row or line, id and reason "
                   "(default: beside --out, ending .rejects.jsonl)."),
    strict: bool = typer.Option(False, "--strict", help="Exit 2 at the first unreadable row, writing nothing "
                                                       "(without it such rows are listed and skipped)."),
    chunk_size: int = typer.Option(2000, min=1, help="Rows read and written at a time, one Parquet row "
                                                      "group each: peak memory grows with it."),
    by: str | None = typer.Option(None, "--by", help="Count leak rates per value of this field of the file "
                                                    "(e.g. source, sub_category, label; default: category)."),
    threshold: float | None = typer.Option(None, parser=threshold_value, metavar="SCORE",
                                           help="Decide at this score (0 to 1) instead of the shipped threshold (0.5 "
                                                "on the common scale; the stored scores allow any other later)."),
) -> None:
    """Score every pair of an existing benchmark for visual leakage and report the leak rate.
    Unreadable rows are listed in the rejects file and the rest are audited."""
    from pipeline.io.external import BenchmarkReader
    from pipeline.io.compressed import data_stem
    from pipeline.report.benchmark_audit import grouping

    out = out or file.with_name(data_stem(file) + (f".{split}" if split else "") + ".leak_audit.parquet")
    rejects = rejects or out.with_name(out.name.removesuffix(".parquet") + ".rejects.jsonl")
    # Both files are renamed into place once every row is scored: Ctrl-C leaves neither. Opening the
    # file reads it through once (its rows, for the bar, and its columns), seconds for a large one
    # with nothing on the screen yet: a Ctrl-C there says so too.
    with nothing_written(f"nothing written to {out} or {rejects}"):
        try:
            reader = BenchmarkReader(file, query_field, description_field, id_field, require_description=False,
                                     split=split)
            group_of = grouping(reader, by)
        except ValueError as error:
            raise fail(str(error))
        refuse_unwritable_outputs(file, {"--out": out, "--rejects": rejects})
        refuse_non_parquet({"--out": out})
        summary = _audited(reader, group_of, out, rejects, chunk_size, strict, threshold, file.name)
    _print_summary(summary, out, rejects, reader, by or "category")


def _audited(reader, group_of, out: Path, rejects: Path, chunk_size: int, strict: bool, threshold: float | None,
             source: str):
    """The audit's summary (`audit_benchmark`), its table written to `out` and its unreadable rows to
    `rejects`, both renamed into place at the end; an error is one line, with nothing written."""
    from pipeline.backends.minilm import MiniLMEmbedder, configured_precision
    from pipeline.detect import LeakDetector
    from pipeline.detect.detector import from_common_scale
    from pipeline.io.audit_table import AuditTableWriter
    from pipeline.progress import StageProgress
    from pipeline.report.benchmark_audit import audit_benchmark

    # Rows rarely share texts across chunks, so the vector cache holds one chunk's texts:
    # the default (sized for a build) would grow memory with the file.
    embedder = MiniLMEmbedder(cache_size=2 * chunk_size, precision=configured_precision())
    detector = LeakDetector(embedder=embedder, threshold=threshold)
    calibration = detector.calibration
    metadata = {"detector": detector.version, "model": detector.model, "threshold": str(detector.threshold),
                "text_harm_probability_threshold": str(from_common_scale(detector.threshold,
                                                                         calibration.text_harm_threshold)),
                "reveal_raw_threshold": str(from_common_scale(detector.threshold, calibration.reveal_threshold)),
                "source": source, "position": reader.position_unit,
                **({"files": json.dumps(reader.files, ensure_ascii=False)} if reader.files else {})}
    try:
        with (environment_errors(),  # a disk that fills mid-write: one line, and the writer leaves nothing
              AuditTableWriter(out, rejects, metadata, detector.threshold) as writer,
              StageProgress(("audit",), reader.total, unit="rows") as progress):
            return audit_benchmark(reader, detector, writer, chunk_size, strict,
                                   lambda entries: progress.advance("audit", entries), group_of)
    except ValueError as error:  # nothing was written
        raise fail(str(error))


def _print_summary(summary, out: Path, rejects: Path, reader, by: str) -> None:
    from pipeline.io.folders import shown_files
    from pipeline.io.records import OBJECT_KEY

    table = Table(title=f"leak rate, {summary.audited} pairs -> {out}")
    not_english = summary.total.not_english
    columns = [by, "pairs", *(["not English"] if not_english else []), "leaky", "by text_harm", "by reveal",
               "leak rate"]
    for number, name in enumerate(columns):
        # a group is the file's own text: folded, never cut ("…") where wide characters fool the wrap
        table.add_column(name, justify="left" if number == 0 else "right", overflow="fold" if number == 0 else "ellipsis")
    for group, count in [*sorted(summary.groups.items()), ("all", summary.total)]:
        table.add_row(group, str(count.pairs), *([str(count.not_english)] if not_english else []),
                      str(count.leaky), str(count.by_text_harm), str(count.by_reveal), percent(count.leak_rate))
    console.print(table)
    if not_english:
        typer.echo(f"not English, outside the detector's scope and left out of the leak rates: {not_english} "
                   "(the `english` column of the output)")
    # Fields are found by name, so show which columns were read: a wrong guess is visible at once.
    typer.echo("fields read: " + ", ".join(f"{ours} <- {'the object keys' if theirs == OBJECT_KEY else repr(theirs)}"
                                           for ours, theirs in reader.fields.items()))
    without = "" if reader.has_descriptions else " (the file has no image description field)"
    if reader.files is not None:  # a folder: which of its files make the rates
        typer.echo(f"files read{f' (split {reader.split})' if reader.split else ''}, {len(reader.files)}: "
                   f"{shown_files(reader.files)}")
    typer.echo(f"text-only rows, scored on the query alone: {summary.text_only}{without}")
    typer.echo(f"rejected rows: {summary.rejected} -> {rejects}")
    for reject in summary.reject_examples:
        typer.echo(f"  {reject.describe()}")
    typer.echo(f"duplicate ids: {summary.duplicate_ids}")
    for row_id, first, again in summary.duplicate_examples:
        typer.echo(f"  {row_id!r}: {first} and {again}")
    # A build would refuse these rows outright; the audit scores them all the same, so say so.
    typer.echo(f"rows the hard block would refuse (scored and kept; rule in the `guardrail` column): "
               f"{summary.guardrail.total()}")
    for rule, rows in sorted(summary.guardrail.items()):
        typer.echo(f"  {rule}: {rows}")
