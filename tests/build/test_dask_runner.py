"""The build flow on a Dask LocalCluster gives the same rows as on the default thread pool."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.runners import make_task_runner

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds


def test_build_on_dask_matches_threads(prefect_harness, tmp_path):
    from flows.build import build_flow

    common = ["run.size=4", "run.batch_size=64", "run.categories=['Violent', 'Privacy']",
              f"run.runs_dir='{tmp_path}'"]
    threads = load_config(None, common)
    dask = load_config(None, common + ["runner.kind='dask'", "runner.max_workers=2"])
    on_threads = build_flow.with_options(task_runner=make_task_runner(threads.runner))(
        threads, "threads", show_progress=False)
    on_dask = build_flow.with_options(task_runner=make_task_runner(dask.runner))(
        dask, "dask", show_progress=False)
    assert on_dask["seeds"] == on_threads["seeds"] == 20
    columns = ["id", "instruction", "leak_score", "category"]
    rows = [pd.read_parquet(f"{r['run_dir']}/data")[columns].sort_values("id").reset_index(drop=True)
            for r in (on_threads, on_dask)]
    pd.testing.assert_frame_equal(*rows)
