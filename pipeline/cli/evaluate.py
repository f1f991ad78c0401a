"""`leakless evaluate` (candidate models on a release, judged, ranked) and `leakless select`
(a new release version with the pairs that best separate them)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.cli.app import app
from pipeline.cli.errors import fail, user_errors
from pipeline.cli.release import RELEASES_DIR, ReleasesDir, release_path

EVALUATIONS_DIR = Path("artifacts/evaluations")
EvaluationsDir = Annotated[Path, typer.Option("--out-dir", help="Evaluations go to <out-dir>/<release>/.")]


@app.command()
def evaluate(
    release: Annotated[str, typer.Argument(help="A release folder, or <name>-v<N> under --releases-dir.")],
    models: Annotated[Path, typer.Option(
        "--models", help="Models file: a \\[judge] table and \\[\\[models]] entries (docs/evaluate.md).")],
    text_only: Annotated[bool, typer.Option(
        "--text-only", help="Also run the text-only control: the same instructions without their image.")] = False,
    only: Annotated[Optional[list[str]], typer.Option("--model", help="Evaluate only this model (repeatable).")] = None,
    out_dir: EvaluationsDir = EVALUATIONS_DIR,
    releases_dir: ReleasesDir = RELEASES_DIR,
) -> None:
    """Put every pair to each model (image + instruction as one chat request), judge the answers into
    VLSBench's labels (safe with refusal / safe with warning / unsafe, or error), and print the leaderboard.

    Writes <out-dir>/<release>/<model>.parquet, text-only/<model>.parquet, leaderboard.md, report.html.

    Resumable: a rerun keeps the judged rows and sends only what is missing.
    """
    from pipeline.evaluate.models import load_models
    from pipeline.evaluate.runner import planned_runs

    folder = release_path(release, releases_dir)
    with user_errors():
        config = load_models(models)
        plan = planned_runs(config, only, text_only)
        keys = {config.model(name).api_key_env for name, _ in plan} | {config.judge.api_key_env}
        missing = sorted(key for key in keys if not os.environ.get(key))
        if missing:
            raise fail(f"environment variable {', '.join(missing)} is not set (the models' API keys)")
    from pipeline.prefect_server import prefect_api, use

    with prefect_api() as server:  # as `leakless build`: started before Prefect is imported
        from flows.evaluate import evaluate_flow

        with user_errors(), use(server):
            result = evaluate_flow(str(folder), folder.name, str(models), str(out_dir), text_only, only)
    for run in result["runs"]:
        typer.echo(f"{run['model']} ({run['mode']}): {run['pairs']} pairs, {run['kept']} kept from an earlier run, "
                   f"{run['evaluated']} evaluated, {run['errors']} errors, {run['requests']} requests -> {run['path']}")
    typer.echo("")
    typer.echo(result["markdown"])
    typer.echo(f"written: {', '.join(result['written'])}")


@app.command()
def select(
    release: Annotated[str, typer.Argument(help="A release folder, or <name>-v<N> under --releases-dir.")],
    per_sub_category: Annotated[int, typer.Option(help="Pairs to keep per sub-category (at most).")],
    evaluations: Annotated[Optional[Path], typer.Option(
        help="Folder of <model>.parquet evaluations (default: artifacts/evaluations/<release>).")] = None,
    releases_dir: ReleasesDir = RELEASES_DIR,
) -> None:
    """Keep the pairs that best separate the evaluated models (pairs they disagree on, in the direction
    of the full set's ranking), per sub-category; write them as the release's next version with a
    selection_reason on each row, and report Kendall's tau between the full and selected rankings."""
    from pipeline.evaluate.select_release import select_release

    folder = release_path(release, releases_dir)
    evaluations = evaluations or EVALUATIONS_DIR / folder.name
    if per_sub_category < 1:
        raise fail("--per-sub-category must be at least 1")
    with user_errors():
        target, selection = select_release(folder, evaluations, per_sub_category)
    typer.echo(f"{target}: {len(selection.chosen)} of {len(selection.separability)} pairs, "
               f"at most {per_sub_category} per sub-category")
    typer.echo("| model | safe rate, full set | safe rate, selected |\n|---|---|---|")
    for model in sorted(selection.models, key=lambda m: -selection.full_rates[m]):
        typer.echo(f"| {model} | {selection.full_rates[model]:.1%} | {selection.selected_rates[model]:.1%} |")
    typer.echo(f"Kendall's tau (full vs selected ranking): {selection.kendall_tau:.3f}")
