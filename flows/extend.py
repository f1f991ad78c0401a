"""The extend flow: Prefect wiring only. Plans what is missing, grows elements where the library
and the store run short (with an element writer), then builds just that as a subflow."""

from __future__ import annotations

import json
from pathlib import Path

import pipeline  # noqa: F401  (environment defaults before Prefect loads)
from prefect import flow, get_run_logger, tags, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed, State

from flows.build import build_flow
from flows.labels import TAG, firing_name, tag_flow_run
from pipeline.elements.grow import ROUNDS_BEFORE_GIVING_UP, grow_elements
from pipeline.extend import extension_run_id, grow_run_id, plan_from_files, prepare_run
from pipeline import run_lock
from pipeline.llm.client import LLMConfigError
from pipeline.messages import first_line
from pipeline.progress import no_steps, step_lines
from pipeline.rundir import RunDir
from pipeline.runners import build_task_runner


@task(cache_policy=NO_CACHE, tags=[TAG], task_run_name="grow-{run_id}")
def grow_task(config, wanted: dict[str, int], run_id: str, show_progress: bool = False):
    try:
        return grow_elements(config, wanted, run_id,
                             on_round=step_lines("extend: elements grow") if show_progress else no_steps,
                             on_wait=step_lines("extend: elements grow"))
    except LLMConfigError as error:  # a setting to fix (an unset API key), not a bug: one line, no traceback
        return Failed(message=first_line(error))


@flow(name="leakless-extend", flow_run_name=firing_name("extend"))
def extend_flow(targets_path: str, config_path: str | None = None, overrides: list[str] | None = None,
                show_progress: bool = False) -> dict:
    """Build only the seeds the targets still miss; with the targets met, start no build. A growth
    that gave up still builds what there is; the result says so (`grow_gave_up`, `grow_error`)."""
    def plan_now():
        return plan_from_files(Path(targets_path), Path(config_path) if config_path else None, overrides or [])

    tag_flow_run(TAG)
    targets, config, plan = plan_now()
    grown, growth = 0, {}
    if plan.to_grow:
        report = grow_task(config, plan.to_grow, grow_run_id(plan, config), show_progress)
        if isinstance(report, State):  # grow_task's one-line failure: the flow run's too
            return Failed(message=report.message)
        create_markdown_artifact(markdown=report.markdown(), key="leakless-extend-elements",
                                 description=f"elements grown for {targets.name}")
        grown = sum(report.added.values())
        if report.gave_up:
            get_run_logger().error("growing elements stopped after %d rounds in which every request failed "
                                   "(the first said: %s)", ROUNDS_BEFORE_GIVING_UP, report.first_error)
        targets, config, plan = plan_now()  # the grown elements are unused: plan again
        growth = {"grow_gave_up": report.gave_up, "grow_error": report.first_error, "plan": plan}
    create_markdown_artifact(markdown=plan.markdown(), key="leakless-extend-plan",
                             description=f"pairs missing from {targets.name}")
    result = {"name": targets.name, "missing": plan.missing, "planned_seeds": len(plan.elements),
              "elements_grown": grown, "run_id": None, "pairs_added": 0, **growth}
    if not plan.elements:
        get_run_logger().info("nothing to build: %s", "no pairs are missing" if not plan.missing
                              else f"{plan.missing} pairs missing but no unused element is left")
        return result
    run_id = extension_run_id(plan, config, targets.runs_dir)
    tag_flow_run(run_id)
    # Locked here, not by the caller: a served extend has no caller, and a growth changes the run id.
    try:
        with run_lock.held(RunDir(targets.runs_dir, run_id)):
            run_config = prepare_run(plan, targets, config, RunDir(targets.runs_dir, run_id).path)
            with tags(TAG, run_id):
                built = build_flow.with_options(task_runner=build_task_runner(run_config))(
                    run_config, run_id, show_progress=show_progress)
    except run_lock.RunBusy as busy:  # another extend or build of that run is going: one line
        return Failed(message=str(busy))
    manifest = json.loads(RunDir(run_config.run.runs_dir, run_id).manifest.read_text(encoding="utf-8"))
    return {**result, **{key: built[key] for key in ("run_id", "run_dir", "states", "retriable_failed", "summary")},
            "pairs_added": manifest["rows"]}
