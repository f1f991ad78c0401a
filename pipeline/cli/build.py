"""`leakless build`: the main job."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markdown import Markdown

from pipeline.cli.app import app
from pipeline.cli.console import output_console
from pipeline.cli.errors import (environment_errors, rerun_command, resumable, user_errors,
                                 without_interrupt_crash_line)
from pipeline.cli.preflight import check_build_ready
from pipeline.config import load_config
from pipeline.plan import choose_elements, plan_seeds
from pipeline.rundir import RunDir, new_run_id
from pipeline.summary import transient_failures_text


@app.command()
def build(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML config file.")] = None,
    size: Annotated[Optional[int], typer.Option(help="Elements per sub-category (default 4).")] = None,
    run_id: Annotated[Optional[str], typer.Option(help="Resume or name a run; default: a new id.")] = None,
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
        notes = check_build_ready(settings, run)
        run.check(settings)
        notes += choose_elements(settings).notes(settings) + list(filter(None, [
            run.unrecorded_prompts_note(), run.pool_changes_note(seeds)]))
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    from pipeline.prefect_server import prefect_api, use

    # Prefect's server, the models and the imports below start together, not one after another.
    same_run = f"{rerun_command(['build'], config, overrides)} --run-id {shlex.quote(run.run_id)}"
    with resumable(same_run), prefect_api() as server:
        from pipeline.factory import warm_up

        warming = warm_up(settings, run.path) if settings.runner.kind == "threads" else None

        from flows.build import build_flow
        from pipeline.runners import build_task_runner

        try:
            with user_errors():
                runner = build_task_runner(settings)
            with environment_errors(), use(server), without_interrupt_crash_line():
                result = build_flow.with_options(task_runner=runner)(settings, run.run_id, show_progress=progress)
        finally:
            if warming is not None:
                # A rerun of a finished run, or a failed one, may not need the models; exiting while
                # the warm-up is still inside native loading code aborts the process (exit 134).
                warming.join()
    output_console().print(Markdown(result["summary"]))
    typer.echo(f"run folder: {result['run_dir']}")
    if result["retriable_failed"]:
        # The run is finished (exit 0, as for any failed seed), but these seeds need only the server back.
        typer.echo(f"note: {transient_failures_text(result['retriable_failed'])}; once the server answers, "
                   f"`{same_run}` tries them again", err=True)
