"""Flows that deployments run: they take plain parameters (a config path and overrides)."""

from __future__ import annotations

import pipeline  # noqa: F401  (environment defaults before Prefect loads)
import httpx
from prefect import flow, tags
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError
from prefect.states import Failed

from flows.build import build_flow
from flows.extend import extend_flow
from flows.labels import TAG, firing_name, tag_flow_run
from pipeline.config import load_config
from pipeline.run_lock import RunBusy
from pipeline.runners import build_task_runner
from pipeline.scheduled_runs import lost_server_message, scheduled_run


@flow(name="leakless-scheduled-build", flow_run_name=firing_name("scheduled-build"))
def scheduled_build(config_path: str | None = None, overrides: list[str] | None = None) -> dict:
    """Carries on the latest run of this config when it is unfinished or has seeds to try again, else
    builds a new one (`pipeline.scheduled_runs`)."""
    tag_flow_run(TAG)
    config = load_config(config_path, overrides or [])
    # On the config's [runner], as `leakless build` runs it: the run's records name that runner.
    build = build_flow.with_options(task_runner=build_task_runner(config))
    try:
        with scheduled_run(config) as run_id, tags(TAG, run_id):
            tag_flow_run(run_id)
            try:
                result = build(config, run_id, show_progress=False)
            except (httpx.TransportError, ConcurrencySlotAcquisitionError) as lost:
                return Failed(message=lost_server_message(run_id, lost))
    except RunBusy as busy:  # a `leakless build` of that run is still going: one line, the next firing goes on
        return Failed(message=str(busy))
    return {key: result[key] for key in ("run_id", "run_dir", "states", "seeds")}


FLOWS = {"build": scheduled_build, "extend": extend_flow}
