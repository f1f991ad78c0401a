"""The build flow: Prefect wiring only. Each task handles a whole batch of seeds for one stage.

`build` is the way to build from Python (a notebook, a script); `build_flow` is the flow it runs,
for flows that hold a build's server and lock themselves (`flows.extend`, `flows.scheduled`)."""

from __future__ import annotations

import time
from collections import Counter

import pipeline  # noqa: F401  (environment defaults before Prefect loads)
from prefect import flow, get_run_logger, tags, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import opaque

from flows.labels import TAG, tag_flow_run
from pipeline import build as build_steps
from pipeline.batch import Batch, make_batches
from pipeline.build_session import build_session
from pipeline.config import BuildConfig
from pipeline.factory import STAGE_ORDER, config_key
from pipeline.plan import plan_seeds
from pipeline.progress import StageProgress, StartUp
from pipeline.retry_policy import worth_retrying
from pipeline.rundir import RunDir, new_run_id
from pipeline.runners import batches_in_flight, build_task_runner, stage_placement
from pipeline.scheduling import run_depth_first
from pipeline.summary import failed_seeds_warning


# Batches are checkpointed by pipeline.build itself, so Prefect's result cache stays off. A full disk
# is not tried again (`worth_retrying`); a dead LLM client process is, with a new one.
@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=1, retry_condition_fn=worth_retrying,
      task_run_name="{stage}-batch-{index}")
def stage_task(stage: str, index: int, batch: Batch, config_key: str, run: RunDir) -> Batch:
    return build_steps.run_stage(stage, batch, config_key, run)


@task(cache_policy=NO_CACHE)
def finalize_task(batches: list[Batch], config: BuildConfig, run: RunDir, wall: float):
    return build_steps.finalize(batches, config, run, wall)


@flow(name="leakless-build", flow_run_name="build-{run_id}", validate_parameters=False)
def build_flow(config: BuildConfig, run_id: str, show_progress: bool = True) -> dict:
    started = time.perf_counter()
    tag_flow_run(TAG, run_id)
    run = RunDir(config.run.runs_dir, run_id)
    seeds = plan_seeds(config)
    if (finished := build_steps.finished_result(run, config, seeds)) is not None:
        return finished  # before `claim`, which would record this plan's pool seeds over the run's
    run.claim(config, seeds)
    batches = make_batches(seeds, config.run.batch_size)
    # Prefect walks every record of every batch argument looking for futures, which costs more
    # CPU than some stages; `opaque` stops that. Dask's serialiser turns the annotation into a
    # plain tuple, so there the arguments go as they are.
    bare = opaque if config.runner.kind == "threads" else (lambda value: value)
    key = config_key(config)  # the stages' cache key, once per run

    def submit(index: int, position: int, upstream: Batch):
        stage = STAGE_ORDER[position]
        with stage_placement(config, stage):
            return stage_task.submit(stage.value, index, bare(upstream), key, bare(run))

    with build_steps.fewer_collections(), tags(TAG, run_id):
        with StageProgress(STAGE_ORDER, sum(len(b.seeds) for b in batches), show_progress) as bars:
            done = run_depth_first(batches, len(STAGE_ORDER), batches_in_flight(config), submit,
                                   lambda index, position: bars.advance(STAGE_ORDER[position],
                                                                        len(batches[index].seeds)))
        finalize = finalize_task.with_options(task_run_name=f"finalize-{run_id}")
        ledger, summary = finalize(bare(done), bare(config), bare(run), time.perf_counter() - started)
    create_markdown_artifact(markdown=summary.markdown, key="leakless-build-summary",
                             description=f"leakless build {run_id}")
    states = dict(Counter(entry.state.value for entry in ledger))
    failed = failed_seeds_warning(states.get("failed", 0), len(ledger), summary.retriable_failed)
    if failed:  # the run completes: without a line its Logs tab reads as all well
        get_run_logger().warning(failed)
    return {"run_id": run_id, "run_dir": str(run.path), "states": states, "seeds": len(ledger),
            "retriable_failed": summary.retriable_failed, "summary": summary.markdown}


def build(config: BuildConfig, run_id: str | None = None, show_progress: bool = True) -> dict:
    """Build `config` under `run_id` (default: a new id, as `leakless build` makes) and return the flow's
    result: what `leakless build` does around the flow, from Python. A finished run with nothing to try
    again is read back with no server started. Otherwise the build has a temporary Prefect server in its
    own session, unless an API is configured: an interrupt sent to the whole process group (Jupyter's
    Interrupt button) stops the build without killing it, so the next build in the process works. A run
    another process builds is refused at once (`run_lock.RunBusy`, a ConfigError). The lock and the
    server go when the build ends, KeyboardInterrupt included."""
    run = RunDir(config.run.runs_dir, new_run_id(config) if run_id is None else run_id)
    if (finished := build_steps.finished_result(run, config, plan_seeds(config))) is not None:
        return finished
    # the spinner: the models, Prefect's server and the flow take 20 s or more before the first bar
    with StartUp("build", show_progress) as starting, build_session(run, wait_for_server_stop=True) as session:
        starting("starting the models, Prefect's server and the flow")
        session.hold(config)
        with session.reporting():
            flow = build_flow.with_options(task_runner=build_task_runner(config))  # its stages stop on Ctrl-C
            return flow(config, run.run_id, show_progress=show_progress)
