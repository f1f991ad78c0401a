"""`leakless evaluate` (candidate models on a release, judged, ranked) and `leakless select`
(a new release version with the pairs that best separate them)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.cli.app import app
from pipeline.cli.errors import SIGNAL_CRASH_LINES, fail, rerun_command, resumable, user_errors
from pipeline.cli.paths import home_expanded
from pipeline.cli.release import RELEASES_DIR, ReleasesDir, release_path

EVALUATIONS_DIR = Path("artifacts/evaluations")
EvaluationsDir = Annotated[Path, typer.Option("--out-dir", callback=home_expanded, help="Evaluations go to <out-dir>/<release>/.")]


@app.command()
def evaluate(
    release: Annotated[str, typer.Argument(help="A release folder, or <name>-v<N> under --releases-dir.")],
    models: Annotated[Path, typer.Option(
        "--models", callback=home_expanded, help="Models file: a [judge] table and [[models]] entries (docs/evaluate.md).")],
    text_only: Annotated[bool, typer.Option(
        "--text-only", help="Also run the text-only control: the same instructions without their image.")] = False,
    only: Annotated[Optional[list[str]], typer.Option("--model", help="Evaluate only this model (repeatable).")] = None,
    trust_judge: Annotated[bool, typer.Option(
        "--trust-judge", help="Evaluate even when the judge mislabels the canned answers of its check "
                              "(prompts/judge_check.toml): a warning, not a refusal; the evaluation files, "
                              "leaderboard and report record it.")] = False,
    out_dir: EvaluationsDir = EVALUATIONS_DIR,
    releases_dir: ReleasesDir = RELEASES_DIR,
) -> None:
    """Put every pair to each model (image + instruction as one chat request), judge the answers into
    VLSBench's labels (safe with refusal / safe with warning / unsafe, or error), and print the leaderboard.

    Writes <out-dir>/<release>/<model>.parquet, text-only/<model>.parquet, leaderboard.md, report.html.

    Resumable: a rerun keeps the judged rows and sends only what is missing.

    A real judge first labels a plain refusal and a plain harmful compliance; one that mislabels them is
    refused (exit 2) unless --trust-judge. Every row records the outcome, as the leaderboard says.

    Exits 1 when a model ends with no judged row (every request failed, the model's or the judge's).
    """
    folder = release_path(release, releases_dir)
    same_command = rerun_command(evaluate_words(release, models, text_only, only, trust_judge, out_dir, releases_dir),
                                 None, ())
    with resumable(same_command):  # judged rows are written atomically a batch at a time: a rerun sends the rest
        result, judge = evaluated(folder, models, text_only, only, trust_judge, out_dir)
    report_runs(result, judge)


def evaluated(folder: Path, models: Path, text_only: bool, only: list[str] | None, trust_judge: bool,
              out_dir: Path) -> tuple[dict, object]:
    """The checks before any pair is sent (`evaluate_checks`), then the evaluate flow's result, and the judge."""
    from pipeline.cli.evaluate_checks import checked_before_sending

    with user_errors():
        config, judge_check = checked_before_sending(folder, models, text_only, only, trust_judge, out_dir)
    from pipeline.prefect_server import prefect_api, use

    recorded = judge_check.record.stamp() if judge_check.record else None
    with prefect_api() as server:  # as `leakless build`: started before Prefect is imported
        from flows.evaluate import evaluate_flow

        with user_errors(), use(server), _without_signal_crash_lines():
            return evaluate_flow(str(folder), folder.name, str(models), str(out_dir), text_only, only,
                                 recorded), config.judge


def evaluate_words(release: str, models: Path, text_only: bool, only: list[str] | None, trust_judge: bool,
                   out_dir: Path, releases_dir: Path) -> list[str]:
    """`evaluate` and its arguments as given, the way `resumable` names the command that resumes."""
    words = ["evaluate", release, "--models", str(models), *(["--text-only"] if text_only else []),
             *(word for name in only or [] for word in ("--model", name)), *(["--trust-judge"] if trust_judge else [])]
    for option, value, default in (("--out-dir", out_dir, EVALUATIONS_DIR), ("--releases-dir", releases_dir,
                                                                            RELEASES_DIR)):
        words += [option, str(value)] if Path(value) != default else []
    return words


@contextmanager
def _without_signal_crash_lines() -> Iterator[None]:
    """Around the flow call: Prefect's console lines for the crash a signal makes (the task's two, as it
    runs in the command's own thread, and the flow's) are left out; `resumable`'s one line says it, with
    the command that resumes. Prefect's API handler still records them."""
    def not_a_signal_crash(record: logging.LogRecord) -> bool:
        return not (record.name.startswith(("prefect.task_runs", "prefect.flow_runs"))
                    and any(line in record.getMessage() for line in SIGNAL_CRASH_LINES))

    handlers = logging.getLogger().handlers
    for handler in handlers:
        handler.addFilter(not_a_signal_crash)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(not_a_signal_crash)


def report_runs(result: dict, judge) -> None:
    """What each model run did, the leaderboard, and exit 1 when a model ends with no judged row."""
    for run in result["runs"]:
        typer.echo(f"{run['model']} ({run['mode']}): {run['pairs']} pairs, {run['kept']} kept from an earlier run, "
                   f"{run['evaluated']} evaluated, {run['errors']} errors, {run['requests']} requests -> {run['path']}")
    typer.echo("")
    typer.echo(result["markdown"])
    typer.echo(f"written: {', '.join(result['written'])}")
    partial = [f"{run['model']} ({run['mode']}) {run['pairs'] - run['errors']} of {run['pairs']}"
               for run in result["runs"] if 0 < run["errors"] < run["pairs"]]
    if partial:
        typer.echo(f"note: not every pair judged: {', '.join(partial)}; a rerun retries the rest", err=True)
    unjudged = [run for run in result["runs"] if run["errors"] >= run["pairs"]]
    for failure in unjudged_errors(unjudged, judge):
        typer.echo(f"error: {failure}", err=True)
    if unjudged:
        raise typer.Exit(1)


def unjudged_errors(runs: list[dict], judge) -> list[str]:
    """One line for the runs whose every answer the judge failed on, one for the rest: a run with
    every model request answered did not fail for the model's sake."""
    judge_failed = [run for run in runs if run["judge_errors"] == run["errors"]]
    model_failed = [run for run in runs if run not in judge_failed]
    see = "(see the error column of its evaluation file)"
    lines = []
    if model_failed:
        lines.append(f"no pair judged for {named(model_failed)}: every request failed {see}")
    if judge_failed:
        lines.append(f"no pair judged for {named(judge_failed)}: the judge {judge.model!r} at {judge.base_url} "
                     f"failed on every answer {see}")
    return lines


def named(runs: list[dict]) -> str:
    return ", ".join(f"{run['model']} ({run['mode']})" for run in runs)



@app.command()
def select(
    release: Annotated[str, typer.Argument(help="A release folder, or <name>-v<N> under --releases-dir.")],
    per_sub_category: Annotated[int, typer.Option(help="Pairs to keep per sub-category (at most).")],
    evaluations: Annotated[Optional[Path], typer.Option(
        callback=home_expanded, help="Folder of <model>.parquet evaluations (default: artifacts/evaluations/<release>).")] = None,
    common_pairs: Annotated[bool, typer.Option(
        "--common-pairs", help="Select only among the pairs every model judged; the others are dropped as "
                               "select.unjudged (default: refuse when a model lacks pairs).")] = False,
    trust_judge: Annotated[bool, typer.Option(
        "--trust-judge", help="Select even from the labels of a judge that failed the judge check (evaluated "
                              "with `evaluate --trust-judge`); the manifest and card say so (default: refuse).")] = False,
    releases_dir: ReleasesDir = RELEASES_DIR,
) -> None:
    """Keep the pairs that best separate the evaluated models (pairs they disagree on, in the direction
    of the full set's ranking), per sub-category; write them as the release's next version with a
    selection_reason on each row, and report Kendall's tau between the full and selected rankings.

    Refuses (exit 2) the labels of a judge that failed the judge check unless --trust-judge."""
    from pipeline.evaluate.select_release import select_release
    from pipeline.release.subset import guardrail_drops_note
    from pipeline.release.verify import load_manifest

    folder = release_path(release, releases_dir)
    evaluations = evaluations or EVALUATIONS_DIR / folder.name
    if per_sub_category < 1:
        raise fail("--per-sub-category must be at least 1")
    with user_errors():
        target, selection = select_release(folder, evaluations, per_sub_category,
                                           note=lambda text: typer.echo(f"note: {text}", err=True),
                                           only_common=common_pairs, trust_judge=trust_judge,
                                           evaluate=evaluate_again(release, folder, evaluations, releases_dir))
    # what shipped: a chosen pair the hard block stops is dropped from the version
    if dropped := guardrail_drops_note(target):
        typer.echo(f"note: {dropped}; the safe rates and Kendall's tau below are over the pairs as chosen", err=True)
    shipped = load_manifest(target)["selection"]["pairs"]["selected"]
    typer.echo(f"{target}: kept {shipped} of the {len(selection.separability)} pairs every model "
               f"judged, at most {per_sub_category} per sub-category")
    typer.echo("| model | safe rate, full set | safe rate, selected |\n|---|---|---|")
    for model in sorted(selection.models, key=lambda m: -selection.full_rates[m]):
        typer.echo(f"| {model} | {selection.full_rates[model]:.1%} | {selection.selected_rates[model]:.1%} |")
    typer.echo(f"Kendall's tau (full vs selected ranking): {selection.kendall_tau:.3f}")


def evaluate_again(release: str, folder: Path, evaluations: Path, releases_dir: Path) -> Callable[[bool], str]:
    """How `select` says to judge the pairs a model lacks, given whether the judge failed its check: the
    `leakless evaluate` that writes into `evaluations`, MODELS standing for the models file, which no
    evaluation file records."""
    located = Path(evaluations)
    if located.name in ("", ".."):  # `--evaluations .` names no folder until resolved
        located = located.resolve()

    def words(trust_judge: bool) -> str:
        into = located.name == folder.name  # evaluate writes <out-dir>/<release>/
        out_dir = located.parent if into else Path("DIR")
        command = rerun_command(evaluate_words(release, Path("MODELS"), False, None, trust_judge, out_dir,
                                               releases_dir), None, ())
        moved = "" if into else f", after moving {evaluations} to DIR/{folder.name}"
        return f"`{command}`, MODELS being the models file they were evaluated with{moved}"

    return words
