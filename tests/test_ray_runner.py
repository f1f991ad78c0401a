"""The build flow on a local Ray (2 CPUs) gives the same rows as on the default thread pool; and
how each runner gives GPU workers their own GPU (checked where it shows without a GPU)."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from pipeline.backends.diffusers_devices import PINNED_ENV
from pipeline.config import load_config
from pipeline.runners import build_gpus, check_gpu_placement, dask_gpu_cluster, make_task_runner, stage_placement

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


def diffusers_config(*extra: str):
    return load_config(None, ["backends.images='diffusers'", "images.diffusers.devices=['cuda:0', 'cuda:2']",
                              *extra])


def test_gpu_builds_place_one_worker_per_gpu_on_every_runner():
    assert build_gpus(load_config(None, [])) == []  # placeholder images need no GPU
    config = diffusers_config()
    assert build_gpus(config) == [0, 2]
    # Ray: the images stage's tasks each ask for one GPU, and are told they are pinned.
    ray = diffusers_config("runner.kind='ray'")
    with stage_placement(ray, "images"):
        from prefect_ray.context import RemoteOptionsContext
        options = RemoteOptionsContext.get().current_remote_options
    assert options == {"num_gpus": 1, "runtime_env": {"env_vars": {PINNED_ENV: "1"}}}
    with stage_placement(ray, "rewrite"):
        assert RemoteOptionsContext.get().current_remote_options == {}
    # Dask: leakless starts one single-threaded worker per GPU.
    runner = make_task_runner(diffusers_config("runner.kind='dask'").runner, build_gpus(config))
    assert runner.cluster_class == "distributed.SpecCluster"
    assert sorted(runner.cluster_kwargs["workers"]) == ["gpu-0", "gpu-2"]


def test_a_dask_cluster_leakless_did_not_start_is_refused_for_gpu_builds():
    config = diffusers_config("runner.kind='dask'", "runner.address='tcp://10.0.0.5:8786'")
    with pytest.raises(ValueError, match="cannot give each worker of a Dask cluster it did not start"):
        check_gpu_placement(config.runner, build_gpus(config))
    check_gpu_placement(config.runner, [])  # CPU-only builds may use any cluster


@pytest.mark.slow
def test_each_dask_gpu_worker_sees_only_its_own_gpu():
    from distributed import Client, SpecCluster

    with SpecCluster(**dask_gpu_cluster([0, 2]), asynchronous=False) as cluster, Client(cluster) as client:
        seen = client.run(lambda: (os.environ["CUDA_VISIBLE_DEVICES"], os.environ[PINNED_ENV]))
        names = {worker["name"]: worker["nthreads"] for worker in client.scheduler_info()["workers"].values()}
    assert sorted(seen.values()) == [("0", "1"), ("2", "1")]
    assert names == {"gpu-0": 1, "gpu-2": 1}
