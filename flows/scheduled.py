"""Flows that deployments run: they take plain parameters (a config path and overrides)."""

from __future__ import annotations

import pipeline  # noqa: F401  (environment defaults before Prefect loads)
from prefect import flow

from flows.build import build_flow
from flows.extend import extend_flow
from pipeline.config import load_config
from pipeline.rundir import new_run_id
from pipeline.runners import build_task_runner


@flow(name="leakless-scheduled-build")
def scheduled_build(config_path: str | None = None, overrides: list[str] | None = None) -> dict:
    config = load_config(config_path, overrides or [])
    # On the config's [runner], as `leakless build` runs it: the run's records name that runner.
    build = build_flow.with_options(task_runner=build_task_runner(config))
    result = build(config, new_run_id(config), show_progress=False)
    return {key: result[key] for key in ("run_id", "run_dir", "states", "seeds")}


FLOWS = {"build": scheduled_build, "extend": extend_flow}
