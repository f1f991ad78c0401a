"""`leakless review labelstudio-export|labelstudio-import`: review batches through Label Studio."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.cli.errors import fail, user_errors
from pipeline.cli.paths import home_expanded
from pipeline.cli.review import RUNS_DIR, Run, RunsDir, review_app, run_folder, store_for
from pipeline.review.labelstudio import DEFAULT_IMAGE_URL_PREFIX

PREFILLS = ("none", "model")


@review_app.command("labelstudio-export")
def labelstudio_export(
    run: Run, runs_dir: RunsDir = RUNS_DIR,
    prefill: Annotated[str, typer.Option(
        help="none: tasks start blank. model: the pipeline's verdict is pre-selected as a "
             "prediction (invites rubber-stamping; use it for audits, not first labels).")] = "none",
    image_url_prefix: Annotated[str, typer.Option(
        help="Put before each image file name to make its URL. The default fits Label Studio's "
             "local-files storage with its document root set to the export folder.")]
    = DEFAULT_IMAGE_URL_PREFIX,
) -> None:
    """Write <run>/review/labelstudio/: tasks.json, config.xml and images/ (run `review export` first)."""
    from pipeline.review.batches import load_batches, review_dir
    from pipeline.review.labelstudio import LABEL_CONFIG, export_tasks
    from pipeline.storage import atomic_write_json, atomic_write_text
    if prefill not in PREFILLS:
        raise fail(f"--prefill {prefill!r}: choose none or model")
    folder = run_folder(run, runs_dir)
    with user_errors():
        exported = export_tasks(load_batches(folder), image_url_prefix, prefill)
        out = review_dir(folder) / "labelstudio"
        (out / "images").mkdir(parents=True, exist_ok=True)
        for name, source in exported.images.items():
            shutil.copyfile(source, out / "images" / name)
        atomic_write_text(out / "config.xml", LABEL_CONFIG)
        atomic_write_json(out / "tasks.json", exported.tasks)  # last: its presence means complete
    typer.echo(f"{len(exported.tasks)} tasks -> {out / 'tasks.json'}; {len(exported.images)} images -> "
               f"{out / 'images'}; labelling config -> {out / 'config.xml'}")


@review_app.command("labelstudio-import")
def labelstudio_import(
    run: Run,
    export_file: Annotated[Path, typer.Argument(callback=home_expanded, help="Label Studio's JSON export (a snapshot with full annotations).")],
    runs_dir: RunsDir = RUNS_DIR,
    user: Annotated[Optional[list[str]], typer.Option(
        "--user", help="ID_OR_EMAIL=NAME: record this Label Studio user as annotator NAME "
                       "(the name the batches are assigned to). Repeatable.")] = None,
    url: Annotated[Optional[str], typer.Option(
        help="Label Studio's URL: its /api/users turns user ids into e-mails (for --user by "
             "e-mail, and to name unmapped users).")] = None,
    token_env: Annotated[str, typer.Option(
        help="Environment variable holding the Label Studio API token (with --url).")]
    = "LABEL_STUDIO_API_KEY",
) -> None:
    """Record the annotations of a Label Studio JSON export in the review store.

    An annotation that is not a usable decision (a reject without a reason, a pair not
    assigned to its annotator, an edit that leaks or fails the harm check) is reported
    with its task id and skipped, the rest are recorded, and the exit code is 1. An earlier
    imported decision whose annotation or task is gone from the export, or that a changed
    annotation skipped so replaces, is withdrawn (a skip); one missing from a file older than
    it (nothing in the file as late) is named instead, and the exit code is 1.
    """
    from pipeline.review.batches import load_batches
    from pipeline.review.labelstudio_import import check_export, import_export, import_lock, not_json, plan_import
    from pipeline.review.labelstudio_withdrawals import superseded_withdrawal, withdraw_missing
    from pipeline.review.labelstudio_users import fetch_emails, is_unnamed, names_emails, parse_user_options, user_names
    from pipeline.review.scoring import EditScorer
    folder = run_folder(run, runs_dir)
    with user_errors():
        try:
            text = export_file.read_text(encoding="utf-8-sig")
            exported = check_export(json.loads(text), folder.name)
        except json.JSONDecodeError as error:
            raise ValueError(f"{export_file}: {not_json(text, error)}") from None
        except RecursionError:
            raise ValueError(f"{export_file}: not a Label Studio export (JSON nested too deeply to read)") from None
        except ValueError as error:
            raise ValueError(f"{export_file}: {error}") from None
        by_email = sorted(option for option in user or [] if "@" in option.partition("=")[0])
        if by_email and not url and not names_emails(exported):
            raise ValueError(f"--user {by_email[0]} names a Label Studio user by e-mail, which needs --url: "
                             "the export names users by id only, and /api/users turns ids into e-mails")
        batches = load_batches(folder)  # a run never exported fails before the store is created
        mapping = parse_user_options(user or [])
        emails = {}
        if url:
            token = os.environ.get(token_env)
            if not token:
                raise ValueError(f"--url needs the API token in the environment variable {token_env}")
            emails = fetch_emails(url, token)
        plan = plan_import(exported, batches, user_names(mapping, emails))
    for line in plan.notes:
        typer.echo(f"warning: {line}", err=True)
    with user_errors():  # a store this user may not write (a lab's shared runs folder): one line
        store = store_for(folder)
        with import_lock(store, folder.name):
            outcome = import_export(plan.planned, store, EditScorer(runs_dir=folder.parent))
            superseded = superseded_withdrawal(plan.unusable + outcome.unusable, store, folder.name, plan.planned)
            withdrawal = withdraw_missing(plan, store, folder.name)
    withdrawn = superseded.withdrawn + withdrawal.withdrawn
    for line in withdrawn:
        typer.echo(f"warning: {line}", err=True)
    problems = plan.skipped + outcome.refused + outcome.stale
    for line in problems:
        typer.echo(f"warning: {line}: skipped", err=True)
    for line in superseded.unchecked + withdrawal.unchecked + withdrawal.older:
        typer.echo(f"warning: {line}", err=True)
    unnamed = sorted({p.annotator for p in plan.planned if is_unnamed(p.annotator)})
    if unnamed:
        typer.echo(f"warning: no name for {', '.join(unnamed)}; map them with --user ID=NAME "
                   "or pass --url to name them by e-mail", err=True)
    typer.echo(f"{outcome.added} new decisions recorded, {len(withdrawn)} withdrawn" + (
        f", {len(outcome.stale)} older than the Label Studio decisions already recorded (they stand)"
        if outcome.stale else "") + (
        f", {len(withdrawal.older)} not withdrawn (the file is older than them)" if withdrawal.older else ""))
    if problems or withdrawal.older:
        counts = [f"{len(problems)} annotation(s) skipped"] * bool(problems) + [
            f"{len(withdrawal.older)} decision(s) missing from an older file not withdrawn"] * bool(withdrawal.older)
        typer.echo(f"error: {' and '.join(counts)} (listed above); the others were recorded", err=True)
        raise typer.Exit(1)
