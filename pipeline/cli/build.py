"""`leakless build`: the main job."""

from __future__ import annotations

import importlib
import shlex
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Optional

import httpx
import typer
from rich.markdown import Markdown

from pipeline.build_session import BuildSession, build_session
from pipeline.cli.app import app
from pipeline.cli.console import output_console
from pipeline.cli.errors import (api_lost_after_finishing, environment_errors, fail, rerun_command, resumable,
                                 user_errors, without_lines_the_command_says)
from pipeline.cli.paths import home_expanded
from pipeline.cli.preflight import check_build_ready
from pipeline.config import BuildConfig, ConfigError, load_config
from pipeline.build import finished_result
from pipeline.messages import first_line
from pipeline.plan import choose_elements, plan_seeds
from pipeline.pool.unfitted import unfitted_note
from pipeline.progress import StartUp, Step, no_steps
from pipeline.rundir import RunDir, new_run_id
from pipeline.summary import transient_failures_text


@app.command()
def build(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", callback=home_expanded, help="TOML config file.")] = None,
    size: Annotated[Optional[int], typer.Option(help="Elements per sub-category (default 4).")] = None,
    run_id: Annotated[Optional[str], typer.Option(
        help="Resume or name a run; default: a new id, the UTC start time and the config's hash (20261125-143002-5b82ad).")] = None,
    override: Annotated[list[str], typer.Option("--set", help="Override a config key: section.key=value.")] = [],
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Build a candidate benchmark: seeds -> drafts -> leak rewrite + filter -> images -> Parquet.

    Defaults are the offline backends (templates, rules, MiniLM detector,
    placeholder images): no API key, no GPU.
    """
    overrides = list(override) + ([f"run.size={size}"] if size is not None else [])
    with user_errors():
        settings = load_config(config, overrides)
        seeds = plan_seeds(settings)  # reads and checks the element library up front
        if not seeds:
            raise ValueError("the config selects no seeds")
        # "" is a bad id, not "new": `--run-id "$RUN"` with RUN unset must not start a fresh build
        run = RunDir(settings.run.runs_dir, new_run_id(settings) if run_id is None else run_id)
        finished = finished_result(run, settings, seeds)
    if finished is not None:  # a cron job making sure its run finished: no server, no model, no rewrite
        output_console().print(Markdown(finished["summary"]))
        typer.echo(f"run folder: {run.path}")
        typer.echo(f"note: run {run.run_id} is finished and has no seed to try again: nothing rebuilt", err=True)
        if unfitted := unfitted_note(run.path, run.run_id):
            typer.echo(f"note: {unfitted}", err=True)
        return
    with user_errors():
        notes = check_build_ready(settings, run)
        run.check(settings)
        notes += choose_elements(settings).notes(settings) + list(filter(None, [
            run.unrecorded_prompts_note(), run.pool_changes_note(seeds)]))
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    same_run = f"{rerun_command(['build'], config, overrides)} --run-id {shlex.quote(run.run_id)}"
    # within `resumable`: a Ctrl-C's line is written once the spinner has gone
    with resumable(same_run), StartUp("build", progress) as starting, build_session(run) as session:
        api_url = session.server.api_url if session.server else reachable_api_url()
        # the models load while Prefect's server starts, before the run is locked
        session.hold(settings, loading=lambda: make_stages(settings, run, starting), refusing=user_errors)
        result, lost = run_flow(settings, session, api_url, progress, same_run, starting)
    if result is None:
        report_finished_without_api(run, lost)
        return
    output_console().print(Markdown(result["summary"]))
    typer.echo(f"run folder: {result['run_dir']}")
    if result["retriable_failed"]:
        # The run is finished (exit 0, as for any failed seed), but these seeds need only the server back.
        typer.echo(f"note: {transient_failures_text(result['retriable_failed'])}; once the server answers, "
                   f"`{same_run}` tries them again", err=True)


def make_stages(settings: BuildConfig, run: RunDir, on_step: Step = no_steps) -> None:
    """The build's stages, made before the run is locked or claimed: `make_pipeline` checks them
    against `STAGE_ORDER`, and a mismatch, a bug of the code, is then one traceback with no run
    folder made, not one from each task, its retry and the flow. The flow's tasks find them made.
    Prefect's import (about 1 s) runs meanwhile. Dask workers make their own stages."""
    if settings.runner.kind != "threads":
        return
    from pipeline.factory import build_stages, config_key

    on_step("loading the models")
    # Leaving the block waits for the models: exiting while a thread is inside native loading
    # code (Ctrl-C meanwhile) aborts the process (exit 134).
    with environment_errors(), ThreadPoolExecutor(1, thread_name_prefix="warm-up") as loading:
        made = loading.submit(build_stages, config_key(settings), run.path)
        importlib.import_module("flows.build")
        made.result()


def report_finished_without_api(run: RunDir, lost: str) -> None:
    """The run finished, then the Prefect API was lost (`lost` says how): the summary the flow would have
    returned is in the run folder. Exit 0: what the command was for is done; only Prefect's record of
    the flow run is short."""
    output_console().print(Markdown(run.path.joinpath("summary.md").read_text(encoding="utf-8")))
    typer.echo(f"run folder: {run.path}")
    typer.echo(f"note: {lost} after the run finished: the run folder is complete, the server's record of "
               "its flow run is not", err=True)


def reachable_api_url() -> str:
    """The configured Prefect API, asked before anything loads: one that does not answer is one line
    and exit 2, not a traceback once the flow starts."""
    from pipeline.cli.serve import check_server_reachable
    from pipeline.prefect_server import configured_api_url

    url = configured_api_url()
    check_server_reachable(url)
    return url


def run_flow(settings: BuildConfig, session: BuildSession, api_url: str, progress: bool,
             same_run: str, on_step: Step = no_steps) -> tuple[dict | None, str]:
    """The flow's result; (None, what was lost) when the Prefect API stopped answering after the run
    finished. Lost before, it is exit 75 with the command that resumes. `on_step` hears what is
    waited for until the flow's bars start."""
    from flows.build import build_flow
    from pipeline.runners import build_task_runner

    run = session.run
    before = run.manifest_stamp()  # a rerun of a finished run has its old manifest until finalize
    try:
        with user_errors():
            runner = build_task_runner(settings)
        if session.server is not None:
            on_step("waiting for Prefect's temporary server")
        with environment_errors(), session.reporting(), without_lines_the_command_says():
            on_step("starting the flow")  # its run recorded with Prefect, the run folder claimed
            return build_flow.with_options(task_runner=runner)(settings, run.run_id, show_progress=progress), ""
    except ConfigError as error:  # a claim refused mid-flow; the run's lock leaves this to a race we missed
        raise fail(first_line(error)) from None
    except httpx.TransportError as error:
        return None, api_lost_after_finishing(error, api_url, run, before, same_run)
