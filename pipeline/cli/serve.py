"""`leakless serve`: register scheduled deployments on a real Prefect server and run them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import httpx
import typer
from pydantic import ValidationError

from pipeline.cli.app import app
from pipeline.cli.errors import fail, user_errors
from pipeline.config import one_line
from pipeline.schedules import load_serve_config


@app.command()
def serve(
    config: Annotated[Path, typer.Option("--config", "-c", help="TOML file with [[schedules]] entries.")],
) -> None:
    """Register the deployments of a schedule file and run them until stopped (Ctrl-C).

    Needs a running Prefect server (`prefect server start`) and PREFECT_API_URL
    pointing at it: the temporary server a plain `leakless build` starts cannot
    fire schedules.
    """
    with user_errors():
        settings = load_serve_config(config)
        for entry in settings.schedules:
            check_entry(entry)
    if not os.environ.get("PREFECT_API_URL"):
        raise fail("PREFECT_API_URL is not set; start `prefect server start` and export "
                   "PREFECT_API_URL=http://127.0.0.1:4200/api")
    from prefect import serve as prefect_serve

    from flows.scheduled import FLOWS

    deployments = []
    with user_errors():
        for entry in settings.schedules:
            schedule = {"cron": entry.cron} if entry.cron else {"interval": entry.interval_seconds}
            parameters = {"config_path": str(entry.config.resolve()) if entry.config else None,
                          "overrides": entry.overrides}
            if entry.flow == "extend":
                parameters["targets_path"] = str(entry.targets.resolve())
            try:
                deployments.append(FLOWS[entry.flow].to_deployment(name=entry.name, parameters=parameters,
                                                                  **schedule))
            except ValidationError as error:  # Prefect checks the cron string here
                raise ValueError(f"schedule {entry.name!r}: {one_line(error, where_empty='')}") from None
    typer.echo(f"serving {len(deployments)} deployment(s): "
               + ", ".join(entry.name for entry in settings.schedules))
    try:
        prefect_serve(*deployments, print_starting_message=False)
    except httpx.HTTPError as error:
        raise fail(f"cannot reach the Prefect server at {os.environ['PREFECT_API_URL']}: {error}") from None


def check_entry(entry) -> None:
    """What each run would read, read now: a typo is an error at start, not a failed run at 3 am."""
    from pipeline.config import load_config
    from pipeline.extend import load_targets

    try:
        load_config(entry.config, entry.overrides)
        if entry.targets is not None:
            load_targets(entry.targets)
    except (ValueError, FileNotFoundError) as error:
        raise ValueError(f"schedule {entry.name!r}: {str(error).splitlines()[0]}") from None
