"""How each runner gives every GPU worker its own GPU, checked where it shows without a GPU: the
placement decisions, the environment each Dask worker gets, and a build on such a cluster."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from pipeline.backends.diffusers_devices import PINNED_ENV
from pipeline.config import load_config
from pipeline.runners import build_gpus, check_gpu_placement, dask_gpu_cluster, make_task_runner, stage_placement


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


@pytest.mark.slow
def test_a_build_runs_on_the_per_gpu_dask_cluster(prefect_harness, tmp_path):
    """Two 'GPU' workers (no GPU here: each falls back to the allowed CPU) build the same rows
    as the thread pool, with the tiny SD model."""
    from flows.build import build_flow
    from pipeline.testing.tiny_diffusers import build_tiny_sd_pipeline

    tiny = build_tiny_sd_pipeline(tmp_path / "tiny-sd")
    common = ["run.size=1", "run.batch_size=64", "run.sub_categories=['Weapon-Related Violence']",
              f"run.runs_dir='{tmp_path}'", "backends.images='diffusers'", f"images.diffusers.model='{tiny}'",
              "images.diffusers.width=64", "images.diffusers.height=64", "images.diffusers.steps=2",
              "images.diffusers.allow_cpu=true"]
    threads = load_config(None, common + ["images.diffusers.devices=['cpu']"])
    dask = load_config(None, common + ["runner.kind='dask'", "images.diffusers.devices=['cuda:0', 'cuda:1']"])
    runner = make_task_runner(dask.runner, build_gpus(dask))
    assert sorted(runner.cluster_kwargs["workers"]) == ["gpu-0", "gpu-1"]
    on_threads = build_flow.with_options(task_runner=make_task_runner(threads.runner))(
        threads, "threads", show_progress=False)
    on_dask = build_flow.with_options(task_runner=runner)(dask, "dask", show_progress=False)
    columns = ["id", "instruction", "category"]
    rows = [pd.read_parquet(f"{r['run_dir']}/data") for r in (on_threads, on_dask)]
    assert len(rows[0]) > 0
    pd.testing.assert_frame_equal(*(r[columns].sort_values("id").reset_index(drop=True) for r in rows))
    assert sorted(image["bytes"] for image in rows[0]["image"]) == sorted(image["bytes"] for image in rows[1]["image"])
