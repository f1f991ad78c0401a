"""`leakless calibrate`, `leakless eval-public` and `leakless eval-compare`: fit the detector on public
data, measure it by leaving one source out at a time, and compare two such measurements row by row."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table

from pipeline.cli.app import app
from pipeline.cli.console import output_console, percent
from pipeline.cli.errors import fail
from pipeline.cli.outputs import refuse_non_parquet
from pipeline.cli.paths import home_expanded
from pipeline.storage import atomic_path

if TYPE_CHECKING:
    from pipeline.detect.calibrate import FitProgress

console = output_console()
DATA_HELP = "The public VSIL corpus (JSONL: id, query, image_description, label, source), e.g. ../shared/public_vsil/pairs.jsonl."
TEAM_DATA_HELP = ("Folder of labelled sets written the way VLSBench's leakless queries are (detector_*.jsonl). "
                  "Default: the team's sets in the checkout's tests/data (they do not ship in the package).")


@app.command("calibrate")
def calibrate_command(
    data: Path = typer.Option(..., "--data", callback=home_expanded, help=DATA_HELP),
    out: Path | None = typer.Option(None, callback=home_expanded, help="Calibration file to write (default: the shipped one, in a source checkout only)."),
    team_data: Path | None = typer.Option(None, callback=home_expanded, help=TEAM_DATA_HELP + " Their leakless rows set the text-harm threshold."),
    adapter_seed: int = typer.Option(
        0, min=0, help="Seed of the adapter fits. Another seed alone moves public figures by about 0.02: "
                       "refit to a separate --out to measure that spread."),
) -> None:
    """Fit the detector's text-harm readers (probe and adapter) and thresholds on the public corpus and
    the team sets. Each source group is also fitted without itself (about 4 minutes a group on two
    cores; fits are cached under artifacts/cache/text_harm_adapter)."""
    from pipeline.detect.calibrate import calibrate
    from pipeline.detect.corpus import TEAM_DATA
    from pipeline.detect.calibration import CALIBRATION_FILE
    from pipeline.detect.text_harm_adapter import AdapterSettings
    from pipeline.env import IN_CHECKOUT

    require_file(data)
    if out is None and not IN_CHECKOUT:
        raise fail("--out is required outside a source checkout (the default would rewrite the installed "
                   f"package's calibration, {CALIBRATION_FILE})")
    team_data = team_data or TEAM_DATA
    if not any(team_data.glob("detector_*.jsonl")):
        raise fail(f"{team_data}: no detector_*.jsonl set to set the threshold on (the team's sets ship in the "
                   "source checkout, not in the package: pass --team-data)")
    try:
        with fit_progress() as progress:
            result = calibrate(data, out or CALIBRATION_FILE, AdapterSettings(seed=adapter_seed), progress=progress,
                               team_folder=team_data)
    except ValueError as error:
        raise fail(str(error))
    console.print_json(json.dumps(result))


@app.command("eval-public")
def eval_public(
    data: Path = typer.Option(..., "--data", callback=home_expanded, help=DATA_HELP),
    out: Path | None = typer.Option(None, callback=home_expanded, help="Also write every figure to this JSON file."),
    scores: Path | None = typer.Option(
        None, callback=home_expanded, help="Also write each row's out-of-fold scores (ids and numbers, no text) to this Parquet file, "
                   "for `leakless eval-compare`."),
    calibration: Path | None = typer.Option(
        None, callback=home_expanded, help="A calibration written by `calibrate --out` (default: the shipped one); its folds are "
                   "refitted with the adapter settings it records."),
    team_data: Path | None = typer.Option(None, callback=home_expanded, help=TEAM_DATA_HELP),
    vlsbench_sample: Path = typer.Option(
        Path("../shared/reference/vlsbench_dev_sample.json"), "--vlsbench-sample", callback=home_expanded,
        help="VLSBench's 60 released rows (its data.json layout), scored as evaluation only; read from "
             "the shared reference folder, never copied into the project."),
) -> None:
    """Leave one source out: refit the text-harm readers without each source (team sets four groups
    at a time), score the source, and print its figures beside the content-word overlap baseline of
    the same run. Reuses the fits `calibrate` cached; without them (a fresh checkout) it refits 14
    folds, one to two hours on two cores."""
    from pipeline.detect.corpus import (TEAM_DATA, evaluation_only_sources, evaluation_sets, read_public,
                                        read_team_sets, read_vlsbench_sample, refuse_unrecorded_sets,
                                        sample_missing)
    from pipeline.detect.compare import scored_input
    from pipeline.detect.calibration import CALIBRATION_FILE, Calibration
    from pipeline.detect.detector import COMMON_THRESHOLD
    from pipeline.detect.folds import leave_one_source_out
    from pipeline.hashing import sha256_file

    calibration, team_data = calibration or CALIBRATION_FILE, team_data or TEAM_DATA
    refuse_non_parquet({"--scores": scores})  # the arguments' own mistakes first, then what they name
    for path in (data, calibration):
        require_file(path)
    if not vlsbench_sample.is_file():
        raise fail(sample_missing(vlsbench_sample))
    if not any(team_data.glob("detector_*.jsonl")):
        raise fail(f"{team_data}: no detector_*.jsonl set (the team's sets ship in the source checkout, "
                   "not in the package: pass --team-data)")
    try:
        fitted = Calibration.load(calibration)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise fail(f"{calibration}: not a usable calibration ({error})")
    recorded = evaluation_sets()["public_vsil"]["sha256"]
    if sha256_file(data) != recorded:
        raise fail(f"{data}: sha256 differs from the one recorded in evaluation_sets.toml before its first "
                   "scoring; a changed evaluation set needs a new record, made before it is scored")
    try:
        refuse_unrecorded_sets(team_data, vlsbench_sample)
        public = read_public(data)
        team = read_team_sets(team_data)
    except (ValueError, FileNotFoundError) as error:
        raise fail(str(error))
    excluded = evaluation_only_sources()
    fitting = [r for r in public if r.source not in excluded] + team
    evaluation_only = [r for r in public if r.source in excluded] + read_vlsbench_sample(vlsbench_sample)
    with fit_progress() as progress:
        result = leave_one_source_out(fitting, evaluation_only, fitted, progress=progress)
    console.print(_table(result))
    if out is not None:
        with atomic_path(out) as temporary:
            temporary.write_text(json.dumps(result.as_dict(), indent=1) + "\n", encoding="utf-8")
    if scores is not None:
        made_by = {"calibration": fitted.digest, **scored_input(data, COMMON_THRESHOLD)}
        replace(result.row_scores, made_by=made_by).write(scores)


@app.command("eval-compare")
def eval_compare(
    before: Path = typer.Argument(..., callback=home_expanded, help="Row scores of one detector (`eval-public --scores` or `eval-detector --scores`)."),
    after: Path = typer.Argument(..., callback=home_expanded, help="Row scores of another, over the same corpus."),
) -> None:
    """Two detectors on the same rows: each source's AUROC under both, and the difference with its
    paired 95% bootstrap interval (a difference whose interval holds 0 is not shown to be real)."""
    from pipeline.detect.compare import RowScores, compare, input_warning, model_warning, uncompared

    for path in (before, after):
        require_file(path)
    try:
        scored_before, scored_after = RowScores.read(before), RowScores.read(after)
        comparisons = compare(scored_before, scored_after)
    except ValueError as error:
        raise fail(str(error))
    for warning in (input_warning(scored_before, scored_after), model_warning(scored_before, scored_after)):
        if warning:
            console.print(warning)
    table = Table(title=f"AUROC, {before.name} -> {after.name} (paired 95% bootstrap interval of the difference)")
    for name in ("source", "leaky", "leakless", "before", "after", "difference", "interval"):
        table.add_column(name, justify="left" if name == "source" else "right")
    for c in comparisons:
        star = "*" if c.versus_pooled else ""
        table.add_row(c.group, str(c.leaky), str(c.leakless), f"{c.before:.3f}{star}", f"{c.after:.3f}{star}",
                      f"{c.difference:+.3f}", f"{c.interval[0]:+.3f} to {c.interval[1]:+.3f}")
    console.print(table)
    if any(c.versus_pooled for c in comparisons):
        console.print("* a one-label source, against every public leakless row, as in eval-public")
    left_out = uncompared(scored_before, comparisons)
    if left_out:
        console.print(f"not compared (fewer than two rows of a label, even against every public leakless row): "
                      f"{', '.join(left_out)}")


@contextmanager
def fit_progress() -> Iterator[FitProgress]:
    """The fits, which take minutes each uncached: a bar with the time left at a terminal, a line per
    fit with the time so far in a log; both on stderr, so stdout holds only the result."""
    started = time.monotonic()
    errors = Console(stderr=True)

    def fitting(group: str | None) -> str:
        return "text-harm readers on every fitting row" if group is None else f"text-harm readers without {group}"

    if not errors.is_terminal:
        def line(group: str | None, number: int, total: int) -> None:
            so_far = timedelta(seconds=round(time.monotonic() - started))
            typer.echo(f"[{number}/{total}] {fitting(group)} ({so_far} so far)", err=True)
        yield line
        return
    columns = (TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(), TextColumn("fits"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=errors) as bar:
        task = bar.add_task("text-harm readers", total=None)

        def advance(group: str | None, number: int, total: int) -> None:
            bar.update(task, description=fitting(group), completed=number - 1, total=total)
        yield advance
        bar.update(task, completed=bar.tasks[0].total)


def _table(result) -> Table:
    table = Table(title="leak detector, leave one source out (baseline: content-word overlap, same run; "
                        "AUROC with its 95% bootstrap interval)")
    for name in ("source", "rows", "dup", "AUROC", "baseline", "flagged", "recall", "FPR", "twins"):
        table.add_column(name, justify="left" if name == "source" else "right")
    for figures in [*result.sources, *result.pooled.values()]:
        table.add_row(figures.source + ("" if figures.fitted_on else " (eval only)"), str(figures.rows),
                      str(figures.dropped_as_duplicates),
                      _auroc(figures.auroc, figures.auroc_interval,
                             figures.auroc_vs_pooled_leakless, figures.auroc_vs_pooled_interval),
                      _auroc(figures.baseline_auroc, figures.baseline_auroc_interval,
                             figures.baseline_auroc_vs_pooled, figures.baseline_vs_pooled_interval),
                      percent(figures.flagged),
                      percent(figures.recall), percent(figures.fpr), percent(figures.twin_win_rate))
    return table


def _auroc(own: float | None, own_interval: tuple[float, float] | None,
           versus_pooled: float | None, pooled_interval: tuple[float, float] | None) -> str:
    if own is not None:
        return f"{own:.3f}{_interval(own_interval)}"
    return "n/a" if versus_pooled is None else f"{versus_pooled:.3f}*{_interval(pooled_interval)}"


def _interval(interval: tuple[float, float] | None) -> str:
    return "" if interval is None else f" ({interval[0]:.3f}–{interval[1]:.3f})"


def require_file(path: Path) -> None:
    if path.is_dir():
        raise fail(f"{path}: is a folder; name a file")
    if not path.is_file():
        raise fail(f"{path}: no such file")
