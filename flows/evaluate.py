"""The evaluate flow: Prefect wiring only. One task per model and mode, each streaming the whole
release through answer -> judge; then the leaderboard, its reports and a Prefect artifact."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pipeline  # noqa: F401  (environment defaults before Prefect loads)
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.labels import TAG, tag_flow_run
from pipeline.evaluate.leaderboard import load_leaderboard
from pipeline.evaluate.models import load_models
from pipeline.evaluate.report import markdown, write_reports
from pipeline.evaluate.runner import planned_runs, run_model


@task(cache_policy=NO_CACHE, tags=[TAG], task_run_name="evaluate-{model}-{mode}")
def evaluate_task(release_dir: str, models_path: str, model: str, mode: str, out_dir: str,
                  judge_check: dict | None = None) -> dict:
    config = load_models(Path(models_path))
    return asdict(run_model(Path(release_dir), config, model, mode, Path(out_dir), judge_check))


@flow(name="leakless-evaluate", flow_run_name="evaluate-{release_name}")
def evaluate_flow(release_dir: str, release_name: str, models_path: str, out_dir: str, text_only: bool = False,
                  models: list[str] | None = None, judge_check: dict | None = None) -> dict:
    """Models one after another (each task keeps its endpoints at their in-flight bound). `judge_check`:
    the outcome of the judge check made before the flow, which each new row keeps."""
    tag_flow_run(TAG)
    plan = planned_runs(load_models(Path(models_path)), models, text_only)
    runs = [evaluate_task(release_dir, models_path, model, mode, out_dir, judge_check) for model, mode in plan]
    folder = Path(out_dir) / release_name
    board = load_leaderboard(folder, Path(release_dir))
    text = markdown(board)
    create_markdown_artifact(markdown=text, key="leakless-leaderboard", description=f"models on {release_name}")
    return {"runs": runs, "markdown": text, "written": [str(path) for path in write_reports(board, folder)]}
