"""`leakless serve`: register scheduled deployments on a real Prefect server and run them."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import httpx
import typer
from pydantic import ValidationError

from pipeline.cli.app import app
from pipeline.cli.errors import INTERRUPTED, TERMINATED, fail, user_errors
from pipeline.cli.paths import home_expanded
from pipeline.config import one_line
from pipeline.messages import first_line
from pipeline.schedules import ScheduleEntry, load_serve_config


@app.command()
def serve(
    config: Annotated[Path, typer.Option("--config", "-c", callback=home_expanded, help="TOML file with [[schedules]] entries.")],
) -> None:
    """Register the deployments of a schedule file and run them until stopped (Ctrl-C).

    Needs a running Prefect server (`prefect server start`) and PREFECT_API_URL, or
    the active Prefect profile, pointing at it: the temporary server a plain
    `leakless build` starts cannot fire schedules. A deployment runs one flow run at
    a time: a firing while the last run is still going is cancelled.
    """
    from pipeline.env import ensure_prefect_home, user_api_url

    ensure_prefect_home()  # before Prefect's import, which would warn that it cannot make it
    with user_errors():
        settings = load_serve_config(config)
        for entry in settings.schedules:
            check_entry(entry)
    url = user_api_url()  # what the served runs will read: Prefect fixes its own settings at its import
    if not url:
        raise fail("PREFECT_API_URL is not set, nor in the active Prefect profile; start `prefect server start` "
                   "and export PREFECT_API_URL=http://127.0.0.1:4200/api (or `prefect config set` it)")
    with user_errors():
        deployments = [deployment(entry) for entry in settings.schedules]
    check_server_reachable(url)
    if left := left_paused(url, {(entry.flow, entry.name) for entry in settings.schedules}):
        typer.echo(left_paused_note(left), err=True)
    typer.echo(f"serving {len(deployments)} deployment(s): "
               + ", ".join(entry.name for entry in settings.schedules))
    try:
        stopped = serve_until_stopped(deployments)
    except httpx.HTTPError as error:
        raise fail(f"cannot reach the Prefect server at {url}: {error}") from None
    if stopped.interrupted:
        typer.echo(f"{'terminated' if stopped.stop_signal == signal.SIGTERM else 'interrupted'}: "
                   f"{', '.join(firing_names(stopped.interrupted, url))} cancelled; the next firing of "
                   "its schedule carries its run on", err=True)
        raise typer.Exit(TERMINATED if stopped.stop_signal == signal.SIGTERM else INTERRUPTED)


def serve_until_stopped(deployments: list):
    """`prefect.serve`, with Ctrl-C stopping it as SIGTERM does. Prefect's runner cancels its flow runs
    on SIGTERM only: on KeyboardInterrupt it exits and leaves them Running on the server, holding the
    deployment's one slot, so every firing is cancelled until the slot's lease ends."""
    from prefect.runner import Runner

    class StoppableRunner(Runner):
        stop_signal: int | None = None
        interrupted: frozenset = frozenset()

        def handle_sigterm(self, signum: int = signal.SIGTERM, *args) -> None:
            if self.stop_signal is None:  # a second Ctrl-C while it stops must not say a run was idle
                self.stop_signal = signum
                self.interrupted = frozenset(self._process_manager.flow_run_ids())
            super().handle_sigterm()

    runner = StoppableRunner(pause_on_shutdown=True)
    for each in deployments:
        runner.add_deployment(each)
    # Set before asyncio.run, which then leaves SIGINT alone; Prefect's runner sets SIGTERM's itself
    previous = signal.signal(signal.SIGINT, runner.handle_sigterm)
    try:
        asyncio.run(runner.start())
    finally:
        signal.signal(signal.SIGINT, previous)
    return runner


def firing_names(flow_run_ids, url: str) -> list[str]:
    """The firings' names (`<schedule>-<start time>`), or their ids where the server does not say."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    names = []
    with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        for flow_run_id in sorted(flow_run_ids):
            try:
                names.append(client.read_flow_run(flow_run_id).name)
            except Exception:  # noqa: BLE001  a lost server: the id still names it in the UI
                names.append(str(flow_run_id))
    return names


def check_server_reachable(url: str) -> None:
    """Asked before saying it serves anything: `prefect.serve` would only fail on its first request.
    The URL is set explicitly: without one in Prefect's settings, its client would start a temporary
    server of its own and find that one."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        error = client.api_healthcheck()
    if error is not None:
        raise fail(f"cannot reach the Prefect server at {url}: {first_line(error)}")


def left_paused(url: str, in_file: set[tuple[str, str]]) -> list[str]:
    """`flow/deployment` of this project's deployments on the server that are paused and not in this
    file: entries dropped or renamed since an earlier `serve` (which pauses its deployments as it
    stops) stay registered, and un-pausing one would run its old parameters."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.scheduled import FLOWS

    left = []
    with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        for kind, flow in FLOWS.items():
            served = client.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow.name])))
            left += [f"{flow.name}/{each.name}" for each in served if each.paused and (kind, each.name) not in in_file]
    return sorted(left)


def left_paused_note(left: list[str]) -> str:
    return (f"note: not in this file, left paused on the server: {', '.join(left)}; delete with "
            f"`prefect deployment delete {left[0]}`")


def deployment(entry: ScheduleEntry):
    """The entry's Prefect deployment, one run at a time: two extend runs plan the same missing pairs
    into one run folder, two builds fight over the same cores. A firing while the last run is still
    going is cancelled rather than queued, so a slow run does not pile up a backlog."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    from flows.labels import TAG
    from flows.scheduled import FLOWS

    schedule = {"cron": entry.cron} if entry.cron else {"interval": entry.interval_seconds}
    parameters = {"config_path": str(entry.config.resolve()) if entry.config else None,
                  "overrides": entry.overrides}
    if entry.flow == "extend":
        parameters["targets_path"] = str(entry.targets.resolve())
    one_at_a_time = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
    try:
        return FLOWS[entry.flow].to_deployment(name=entry.name, parameters=parameters, tags=[TAG],
                                               concurrency_limit=one_at_a_time, **schedule)
    except ValidationError as error:  # Prefect checks the cron string here
        raise ValueError(f"schedule {entry.name!r}: {one_line(error, where_empty='')}") from None


def check_entry(entry: ScheduleEntry) -> None:
    """What each run would read, read now: a typo is an error at start, not a failed run at 3 am.
    An extend entry is planned as its flow plans it (the targets' own config and overrides
    included), which also reads the runs and releases it counts. Then what the build needs from
    outside its config, as `leakless build` checks it: the API keys, the LLM endpoints, the image
    model and the pool's images (a night that grows elements needs the element writer's key)."""
    from pipeline.cli.extend import in_targets_runs_dir
    from pipeline.cli.preflight import check_build_ready
    from pipeline.config import load_config
    from pipeline.extend import plan_from_files

    try:
        if entry.targets is None:
            settings = load_config(entry.config, entry.overrides)
        else:
            targets, settings, _ = plan_from_files(entry.targets, entry.config, entry.overrides)
            settings = in_targets_runs_dir(settings, targets)  # where the new run goes
        check_build_ready(settings)
    except (ValueError, FileNotFoundError) as error:
        raise ValueError(f"schedule {entry.name!r}: {first_line(error)}") from None
