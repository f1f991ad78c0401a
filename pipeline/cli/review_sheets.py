"""`leakless review export-sheets|import-sheet`: review batches as CSV sheets filled in a spreadsheet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.errors import fail, user_errors
from pipeline.cli.paths import home_expanded
from pipeline.cli.review import RUNS_DIR, Run, RunsDir, review_app, run_folder, store_for


def export_sheets(folder: Path) -> None:
    """Write the run's sheets and say where, and how to fill them (the sheets hold only data rows)."""
    from pipeline.review.batches import load_batches
    from pipeline.review.sheet_export import sheets_dir, write_sheets
    from pipeline.review.sheet_format import guide_lines
    with user_errors():
        done = write_sheets(folder, load_batches(folder))
    for path in sorted(done.written + done.unchanged):
        typer.echo(f"sheet\t{path}")
    for path in done.kept:
        typer.echo(f"warning: kept {path}: it changed since the export wrote it (filled in?), so it was not "
                   "written again; import it with `review import-sheet`, or move it away to have it written anew",
                   err=True)
    for line in guide_lines(str(sheets_dir(folder))):
        typer.echo(f"note: {line}", err=True)


@review_app.command("export-sheets")
def export_sheets_command(run: Run, runs_dir: RunsDir = RUNS_DIR) -> None:
    """Write a review sheet (CSV) per batch and annotator of an exported run under <run>/review/sheets/
    (what `review export --format csv` writes beside the batches). Writing them again is safe: a sheet
    that changed since the export wrote it (filled in place) is kept as it is, and named."""
    export_sheets(run_folder(run, runs_dir))


@review_app.command("import-sheet")
def import_sheet(
    run: Run,
    sheet: Annotated[Path, typer.Argument(callback=home_expanded, help="A filled review sheet, saved as CSV or as an Excel workbook (.xlsx).")],
    user: Annotated[str, typer.Option("--user", help="The annotator who filled it (as named to review export).")],
    runs_dir: RunsDir = RUNS_DIR,
    sheet_wins: Annotated[bool, typer.Option(
        "--sheet-wins", help="Record the sheet's rows even where USER decided the pair otherwise in the app, the API "
                             "or Label Studio after the sheet was exported (each is named); by default that "
                             "decision stands and the row is named.")] = False,
) -> None:
    """Record the verdicts of a filled review sheet in the review store, as USER's decisions.

    A row that says no usable decision (an unknown verdict, a reject without a reason, a pair id that is
    no pair of the run or not assigned to USER, an edit that fails its check) is named with its line and
    skipped, the rest are recorded, and the exit code is 1. Rows left blank are not reviewed. Importing
    the same file again records nothing new. A decision USER made elsewhere after the sheet was exported
    (its exported_at column) stands unless --sheet-wins. Then `leakless review import RUN` as usual.
    """
    from pipeline.review.batches import load_batches
    from pipeline.review.scoring import EditScorer
    from pipeline.review.sheet_plan import plan_sheet
    from pipeline.review.sheet_read import read_sheet
    from pipeline.review.sheet_record import record_sheet, saved_at, sheet_import_lock, sheet_source
    folder = run_folder(run, runs_dir)
    if not user.strip():
        raise fail("--user needs the annotator's name")
    with user_errors():
        batches = load_batches(folder)
        if not sheet.is_file():
            raise ValueError(f"no file {sheet}")
        rows = read_sheet(sheet)
        plan = plan_sheet(rows, batches, user.strip())
        if rows and not plan.matched:
            raise ValueError(f"{sheet.name}: none of its {len(rows)} rows names a pair of run {folder.name} "
                             "(another run's sheet?); nothing was recorded")
        store = store_for(folder)
        at = saved_at(sheet)
        with sheet_import_lock(store, folder.name):
            outcome = record_sheet(plan.decisions, store, EditScorer(runs_dir=folder.parent), annotator=user.strip(),
                                   source=sheet_source(sheet), at=at, sheet_wins=sheet_wins)
    if plan.undated:
        typer.echo(f"warning: {sheet.name}: " + (f"{plan.undated} row(s) without their export time in exported_at"
                   if plan.export_column else "no exported_at column") + f": dated by the file's time ({at}), "
                   "which a copy, a download or a re-save makes now", err=True)
    for line in outcome.replaced:
        typer.echo(f"note: {sheet.name} {line}", err=True)
    problems = sorted(plan.bad + outcome.refused, key=lambda message: int(message.split()[1].rstrip(":")))
    for line in problems:
        typer.echo(f"warning: {sheet.name} {line}: skipped", err=True)
    typer.echo(f"{outcome.added} decisions recorded, {outcome.unchanged} already recorded, "
               f"{plan.blank} not reviewed (blank), {len(problems)} skipped")
    if problems:
        typer.echo(f"error: {len(problems)} row(s) skipped (listed above); the others were recorded", err=True)
        raise typer.Exit(1)
