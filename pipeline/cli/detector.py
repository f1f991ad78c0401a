"""`leakless eval-detector`: the leak detector measured on any labelled file (`audit.py` scores an unlabelled one)."""

from __future__ import annotations

import math
from pathlib import Path

import typer
from rich.table import Table

from pipeline.cli.app import app
from pipeline.cli.console import output_console, percent
from pipeline.cli.errors import environment_errors, fail, nothing_written, report_rejects, user_errors
from pipeline.cli.outputs import refuse_non_parquet, refuse_unwritable_outputs
from pipeline.cli.paths import home_expanded

console = output_console()


def threshold_value(text: str) -> float:
    """A threshold on the detector's 0-1 scale. Typer's own range check calls "nan" out of range
    (no comparison with it holds), so what is no number is named as such first."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value):
        raise typer.BadParameter(f"{text!r} is not a number")
    if not 0 <= value <= 1:
        raise typer.BadParameter(f"{text} is not between 0 and 1")
    return value


def _write_rejects(path: Path, rejects: list) -> None:
    from pipeline.storage import atomic_write_text

    atomic_write_text(path, "".join(reject.json_line() for reject in rejects))


@app.command("eval-detector")
def eval_detector(
    file: Path = typer.Argument(..., callback=home_expanded, help="A labelled file (JSON, JSONL, CSV, TSV, each also .gz, .zst, .bz2 or .xz, or Parquet) with a `label` field, "
                                          "or one with a masked twin of each query (--masked-field); or a Hugging Face "
                                          "dataset folder (Parquet shards, or a datasets save_to_disk folder)."),
    split: str | None = typer.Option(None, help="The split of a dataset folder to read (test for data/test-*.parquet); "
                                                "needed where the folder holds several."),
    threshold: float | None = typer.Option(None, parser=threshold_value, metavar="SCORE",
                                           help="Decide at this score (0 to 1) instead of the shipped threshold."),
    query_field: str | None = typer.Option(None, help="Column holding the query (found by name if omitted)."),
    description_field: str | None = typer.Option(None, help="Column holding the image description."),
    id_field: str | None = typer.Option(None, help="Column holding the row id (the row's position if absent)."),
    masked_field: str | None = typer.Option(
        None, help="Column holding each query's masked twin (MM-SafetyBench: \"Rephrased Question\"): the query "
                   "is then a leaky pair and the twin a leakless one, and no `label` is read."),
    scores: Path | None = typer.Option(
        None, callback=home_expanded, help="Also write each row's scores (ids and numbers, no text) to this Parquet file, "
                   "for `leakless eval-compare`."),
    strict: bool = typer.Option(False, "--strict", help="Exit 2 at the first unreadable row (without it such "
                                                       "rows are named on stderr and left out)."),
    rejects_file: Path | None = typer.Option(
        None, "--rejects", callback=home_expanded, help="List the unreadable rows in this JSON lines file (row or line, id and reason, as "
                                "`audit` does) instead of naming each on stderr."),
    keep_fitting_rows: bool = typer.Option(
        False, "--keep-fitting-rows", help="Score the rows whose query the detector was fitted on too (counted; "
                                           "without it they are left out, their figures being in-sample)."),
    fitting_data: Path | None = typer.Option(
        None, "--fitting-data", callback=home_expanded, metavar="CORPUS",
        help="The public corpus the detector was fitted on (../shared/public_vsil/pairs.jsonl; the team's sets "
             "from --fitting-team-data): rows that nearly repeat a fitting query (MiniLM cosine >= 0.95, as "
             "eval-public leaves out) are then left out too. Refused unless it gives the rows the calibration "
             "records. The first run embeds its ~10,750 fitting queries (up to 15 minutes on two cores; cached "
             "under artifacts/cache: later runs take seconds more)."),
    fitting_team_data: Path | None = typer.Option(
        None, "--fitting-team-data", callback=home_expanded, metavar="DIR",
        help="The team's sets fitted on beside --fitting-data (default: the checkout's tests/data)."),
) -> None:
    """Measure the leak detector on a labelled file: AUROC, precision, recall, FPR. Rows without an
    image description are scored on the query alone (text_harm) and counted; unreadable rows are
    named with their row or line and left out, and so are a row repeating an earlier one and a row
    whose normalised query the detector was fitted on (near repeats too with --fitting-data)."""
    from pipeline.detect.compare import RowScores, scored_input
    from pipeline.detect.evaluate import Unevaluable, evaluate_detector, read_labelled
    from pipeline.io.compressed import data_stem
    from pipeline.progress import StageProgress

    refuse_unwritable_outputs(file, {"--scores": scores, "--rejects": rejects_file})
    refuse_non_parquet({"--scores": scores})
    with nothing_written():  # the outputs are written after the table
        with user_errors():
            keys, fitting_queries, unlabelled = _fitting(fitting_data, fitting_team_data, keep_fitting_rows)
            rows, rejects = read_labelled(file, query_field, description_field, id_field, masked_field, split)
        report_rejects(file, rejects, strict, rejects_file)
        try:
            with StageProgress(("scoring",), len(rows), unit="rows") as progress:
                evaluation = evaluate_detector(rows, threshold, keys, keep_fitting_rows, fitting_queries,
                                               score=_scored_telling(progress))
        except Unevaluable as error:
            raise fail(f"{file}: {error}")
    console.print(_evaluation_table(evaluation, file.name, rejects, rejects_file))
    _print_repeats(evaluation.repeats, unlabelled)
    with environment_errors():  # the table is out: a disk that fills now loses only the files
        if rejects_file is not None:
            _write_rejects(rejects_file, rejects)
        if scores is not None:
            detector = evaluation.detector
            RowScores.of_file(data_stem(file), evaluation.rows, evaluation.results,
                              {"detector": detector.version, "model": detector.model,
                               **scored_input(file, evaluation.report.threshold)}).write(scores)


def _scored_telling(progress):
    """`evaluate_detector`'s scorer: the rows left once repeats (and fitting rows) are out, in `audit`'s
    slices, each slice moving the bar; 300 rows take most of a minute on two cores."""
    from pipeline.report.benchmark_audit import score_in_slices

    def score(detector, rows):
        progress.set_total("scoring", len(rows))
        return score_in_slices(detector, rows, lambda scored: progress.advance("scoring", scored))

    return score


def _fitting(data: Path | None, team: Path | None,
             keep_fitting_rows: bool) -> tuple[frozenset[str] | None, list[str] | None, str | None]:
    """(the fitting queries' keys, their texts where `data` gives them, and why no row can be labelled
    in-sample where it cannot). The keys are needed to leave rows out, not to score them: with
    `keep_fitting_rows` a missing or stale keys file only costs the in-sample label."""
    from pipeline.detect.corpus import TEAM_DATA
    from pipeline.detect.fitting_keys import checked_fitting_rows, fitting_keys, key_hash

    if data is None:
        if team is not None:
            raise ValueError("--fitting-team-data is read beside --fitting-data only")
        try:
            return fitting_keys(), None, None
        except ValueError as error:
            if not keep_fitting_rows:
                raise
            return None, None, str(error)
    if not data.is_file():
        raise ValueError(f"--fitting-data {data}: no such file")
    team = team or TEAM_DATA
    if not any(team.glob("detector_*.jsonl")):
        raise ValueError(f"{team}: no detector_*.jsonl set (the team's sets the detector was fitted on ship in "
                         "the source checkout's tests/data: pass --fitting-team-data)")
    rows = checked_fitting_rows(data, team)
    return frozenset(key_hash(row.query) for row in rows), [row.query for row in rows], None


def _evaluation_table(evaluation, name: str, rejects: list, rejects_file: Path | None) -> Table:
    result = evaluation.report
    table = Table(title=f"leak detector {evaluation.detector.version} on {name}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("pairs (leaky / leakless)", f"{result.pairs} ({result.leaky} / {result.leakless})")
    if rejects:
        where = f"listed in {rejects_file}" if rejects_file else "named on stderr"
        table.add_row(f"unreadable rows left out ({where})", str(len(rejects)))
    if evaluation.not_english:
        table.add_row("not English, left out (outside the detector's scope)", str(evaluation.not_english))
    repeats = evaluation.repeats
    if repeats.same_text:
        table.add_row("repeats of an earlier row, left out (same texts and label)", str(len(repeats.same_text)))
    fitting = "kept: in-sample" if repeats.fitting_kept else "left out"
    if not repeats.fitting_checked:
        table.add_row("repeat the detector's fitting rows", "not checked (see below)")
    else:
        table.add_row(f"repeat the detector's fitting rows, {fitting} (exact query)", str(len(repeats.fitting)))
    if repeats.near_checked:
        from pipeline.detect.folds import NEAR_DUPLICATE

        table.add_row(f"nearly repeat them, {fitting} (MiniLM cosine >= {NEAR_DUPLICATE})",
                      str(len(repeats.near_fitting)))
    if evaluation.text_only:
        table.add_row("text-only (no description: text_harm alone)", str(evaluation.text_only))
    table.add_row("threshold", f"{result.threshold:.3f}")
    table.add_row("AUROC", "n/a (needs both labels)" if result.auroc is None else f"{result.auroc:.4f}")
    if result.auroc is not None:
        interval = result.auroc_interval
        table.add_row("AUROC, 95% bootstrap interval", "n/a (needs two rows of each label)" if interval is None
                      else "{:.4f}–{:.4f}".format(*interval))
    table.add_row("precision", _share(result.precision, "nothing flagged"))
    table.add_row("recall", _share(result.recall, "no leaky pair"))
    table.add_row("FPR", _share(result.fpr, "no leakless pair"))
    if result.twin_pairs:
        table.add_row(f"twin win rate ({result.twin_pairs} pairs)", percent(result.twin_win_rate))
    if evaluation.twins_dangling:
        table.add_row(f"twin links to no row scored (of {evaluation.twins_linked}; left out of the win rate)",
                      str(evaluation.twins_dangling))
    return table


def _share(value: float | None, why_none: str) -> str:
    return percent(value) if value is not None else f"n/a ({why_none})"


EXAMPLES = 5  # rows named per kind of repeat


def _print_repeats(repeats, unlabelled: str | None) -> None:
    """Names the rows behind the table's repeat counts, as `audit` names duplicate ids; `unlabelled`:
    why the fitting rows are unknown, where they are."""
    for pairs, heading in ((repeats.same_text, "repeats of an earlier row (same query, description and label), "
                                               "left out"),
                           (repeats.same_id, "duplicate ids (other texts: both scored)"),
                           (repeats.both_labels, "one query and description labelled both ways (both scored: "
                                                 "fix the label)")):
        if pairs:
            typer.echo(f"{heading}: {len(pairs)}")
            for first, again in pairs[:EXAMPLES]:
                typer.echo(f"  {_both(first, again)}")
    if unlabelled is not None:
        typer.echo(f"no row could be labelled in-sample (all are scored, as --keep-fitting-rows asks): {unlabelled}")
        return
    fitting = repeats.fitting
    kept = "kept, so these figures are partly in-sample" if repeats.fitting_kept else \
        "left out, their scores being in-sample (--keep-fitting-rows scores them)"
    typer.echo(f"{len(fitting)} rows repeat the detector's fitting rows (same normalised query): {kept}" if fitting
               else "no row repeats the detector's fitting rows (same normalised query)")
    for row in fitting[:EXAMPLES]:
        typer.echo(f"  {row.id!r}: {row.position}")
    from pipeline.detect.folds import NEAR_DUPLICATE

    near, similar = repeats.near_fitting, f"MiniLM cosine >= {NEAR_DUPLICATE}, as eval-public leaves out"
    if not repeats.near_checked:
        typer.echo(f"  near repeats ({similar}) are not checked: the fitting texts do not ship with the "
                   "detector (--fitting-data reads them)")
        return
    typer.echo(f"{len(near)} rows nearly repeat the detector's fitting rows ({similar}): {kept}" if near
               else f"no row nearly repeats the detector's fitting rows ({similar})")
    for row, cosine in near[:EXAMPLES]:
        typer.echo(f"  {row.id!r}: {row.position} (cosine {cosine:.3f})")


def _both(first, again) -> str:
    if first.id == again.id:
        return f"{first.id!r}: {first.position} and {again.position}"
    return f"{first.id!r} ({first.position}) and {again.id!r} ({again.position})"
