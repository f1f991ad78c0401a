"""The build flow on a local Ray (2 CPUs) gives the same rows as on the default thread pool."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.runners import make_task_runner

SMALL = ["run.size=1", "run.batch_size=64", "run.sub_categories=['Weapon-Related Violence', 'Identity Theft and Impersonation']"]


@pytest.mark.slow
def test_build_on_ray_matches_threads(prefect_harness, tmp_path):
    from flows.build import build_flow

    common = SMALL + [f"run.runs_dir='{tmp_path}'"]
    threads = load_config(None, common)
    ray = load_config(None, common + ["runner.kind='ray'", "runner.max_workers=2"])
    runner = make_task_runner(ray.runner)
    assert runner.init_kwargs["num_cpus"] == 2
    on_threads = build_flow.with_options(task_runner=make_task_runner(threads.runner))(
        threads, "threads", show_progress=False)
    try:
        on_ray = build_flow.with_options(task_runner=runner)(ray, "ray", show_progress=False)
    finally:
        import ray as ray_module
        ray_module.shutdown()
    assert on_ray["seeds"] == on_threads["seeds"] == 2
    assert on_ray["states"] == on_threads["states"]
    columns = ["id", "instruction", "leak_score", "category", "sub_category"]
    rows = [pd.read_parquet(f"{r['run_dir']}/data")[columns].sort_values("id").reset_index(drop=True)
            for r in (on_threads, on_ray)]
    assert len(rows[0]) > 0
    pd.testing.assert_frame_equal(*rows)
