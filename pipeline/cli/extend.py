"""`leakless extend`: build only what a release still misses to reach its per-sub-category targets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import httpx
import typer
from rich.markdown import Markdown
from rich.table import Table

from pipeline import run_lock
from pipeline.cli.app import app
from pipeline.cli.console import output_console
from pipeline.cli.build import reachable_api_url, report_finished_without_api
from pipeline.cli.errors import (api_lost_after_finishing, environment_errors, fail, rerun_command, resumable,
                                 user_errors, without_lines_the_command_says)
from pipeline.cli.paths import home_expanded
from pipeline.cli.preflight import check_build_ready
from pipeline.config import BuildConfig, ConfigError
from pipeline.extend import ExtendPlan, Targets, extension_run_id, plan_from_files
from pipeline.messages import first_line
from pipeline.rundir import RunDir
from pipeline.summary import transient_failures_text


def plan_table(plan: ExtendPlan, name: str) -> Table:
    table = Table(title=f"{name}: pairs per sub-category (expected {plan.pairs_per_seed:.2f} pairs per seed)")
    table.add_column("sub-category")
    for column in ("target", "released", "pending", "missing", "seeds", "unused"):
        table.add_column(column, justify="right", min_width=len(column))
    table.add_column("note")
    for row in plan.rows:
        table.add_row(row.sub_category, *(str(value) for value in (
            row.target, row.released, row.pending, row.missing, len(row.elements), row.unused)), row.note)
    return table


def in_targets_runs_dir(settings: BuildConfig, targets: Targets) -> BuildConfig:
    """The build config with the runs folder the new run goes to (`prepare_run`): the targets' own,
    not the build config's."""
    return settings.model_copy(update={"run": settings.run.model_copy(update={"runs_dir": targets.runs_dir})})


@app.command()
def extend(
    targets: Annotated[Path, typer.Option("--targets", "-t",
                                          callback=home_expanded, help="TOML file with the targets (or an [extend] table).")],
    config: Annotated[Optional[Path], typer.Option("--config", "-c",
                                                   callback=home_expanded, help="Build config (replaces the targets' one).")] = None,
    override: Annotated[list[str], typer.Option("--set", help="Override a build config key: k.key=v.")] = [],
    dry_run: Annotated[bool, typer.Option(help="Print what is missing and stop.")] = False,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Top a release up to its targets: count released and pending pairs per sub-category, then
    build seeds from never-used elements for what is missing. With the targets met, build nothing.

    `seeds` is how many seeds this run builds, `unused` how many library and store elements were
    never used. Where they run short and backends.element_writer = "llm", the run first grows
    new elements into the element store (`leakless elements`); if every request of that growth
    fails, it builds what there is, then exits 1 with the first request's error.
    """
    with user_errors():
        loaded, settings, plan = plan_from_files(targets, config, override)
        # as `leakless build`: a missing key or unusable model stops here, not mid-flow; its notes are said too
        notes = [] if dry_run else check_build_ready(in_targets_runs_dir(settings, loaded))
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    for line in plan.skipped:
        typer.echo(f"note: skipped {line}", err=True)
    if (others := other_release_names(loaded)) is not None:
        typer.echo(f"note: no release of {loaded.name} in {loaded.releases_dir} yet (it holds {others}): every "
                   f"finished run's pairs count as pending for {loaded.name}; check the targets' name", err=True)
    console = output_console()
    console.print(plan_table(plan, loaded.name))
    if dry_run:
        return
    if not plan.elements and not plan.to_grow:
        typer.echo("nothing to build: " + ("the targets are met (released + pending)" if not plan.missing
                                           else f"{plan.missing} pairs missing, but no unused element is left"))
        return
    from pipeline.prefect_server import prefect_api, use

    # An unchanged plan gives the same run id, so the same command resumes (docs/extend.md).
    same_command = rerun_command(["extend", "--targets", str(targets)], config, override)
    # Known before the flow only when nothing is to grow: growing changes the plan. The flow locks the run
    # it builds; a run another process builds is refused here too, before the server starts.
    run = None if plan.to_grow else RunDir(loaded.runs_dir, extension_run_id(plan, settings, loaded.runs_dir))
    if run is not None:
        with user_errors(), run_lock.held(run):
            pass
    # The server as `leakless build` starts it: before Prefect is imported.
    with resumable(same_command), prefect_api() as server:
        api_url = server.api_url if server else reachable_api_url()
        from prefect.exceptions import FailedRun

        from flows.extend import extend_flow

        before = run.manifest_stamp() if run is not None else None

        # config was checked above: what raises now is ours
        try:
            with environment_errors(), use(server), without_lines_the_command_says():
                result = extend_flow(str(targets), str(config) if config else None, list(override),
                                     show_progress=progress)
        except (FailedRun, ConfigError) as error:  # the flow's one-line failure: an API key unset since the check
            raise fail(first_line(error)) from None
        except httpx.TransportError as error:
            report_finished_without_api(run, api_lost_after_finishing(error, api_url, run, before, same_command))
            return
    report(result, console)


def other_release_names(targets: Targets) -> str | None:
    """The other names released where the targets' name has none: a typo in a nightly targets file
    otherwise plans a second benchmark beside the first, with a plausible table."""
    from pipeline.release.versions import release_names, release_versions

    if release_versions(targets.releases_dir, targets.name):
        return None
    return ", ".join(release_names(targets.releases_dir)) or None


def report(result: dict, console) -> None:
    """What the flow grew and built, by the plan it built from; a growth that gave up is exit 1
    once what there was is built."""
    if result["elements_grown"]:
        typer.echo(f"{result['elements_grown']} new elements in the element store")
    if "plan" in result:  # it grew elements, then planned again: this is what it built
        console.print(plan_table(result["plan"], f"{result['name']}, planned again after growing"))
    if result["run_id"] is None:
        typer.echo("nothing built: no unused element is left after growing")
    else:
        console.print(Markdown(result["summary"]))
        typer.echo(f"{result['pairs_added']} new candidate pairs for {result['name']}; "
                   f"run folder: {result['run_dir']}")
        if result["retriable_failed"]:
            # A finished run's seeds all count as used (pipeline/extend.py): extend never builds them again.
            typer.echo(f"note: {transient_failures_text(result['retriable_failed'])}; the next `leakless extend` "
                       "counts their elements as used and builds others for what is still missing", err=True)
    if result.get("grow_gave_up"):
        from pipeline.elements.grow import ROUNDS_BEFORE_GIVING_UP

        built = (f"built the {result['planned_seeds']} seeds there were elements for, in {result['run_id']}"
                 if result["run_id"] else "nothing was built")
        typer.echo(f"error: growing elements stopped after {ROUNDS_BEFORE_GIVING_UP} rounds in which every "
                   f"request failed (the first said: {result['grow_error']}); {built}", err=True)
        raise typer.Exit(1)
