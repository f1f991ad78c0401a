"""The runner settings a user writes reach the task runner they get, checked without starting one:
how many batches run at once, and what each GPU worker of leakless's own Dask cluster is told."""

from __future__ import annotations

from pipeline.backends.diffusers_devices import PINNED_ENV
from pipeline.config import load_config
from pipeline.runners import batches_in_flight, dask_gpu_cluster, make_task_runner

GPUS = ["backends.images='diffusers'", "images.diffusers.devices=['cuda:0', 'cuda:2']"]


def test_the_thread_pool_has_max_workers_threads():
    config = load_config(None, ["runner.max_workers=3"])
    assert make_task_runner(config.runner)._max_workers == 3
    assert batches_in_flight(config) == 3


def test_batches_in_flight_is_one_a_gpu_only_on_a_dask_cluster_leakless_starts():
    assert batches_in_flight(load_config(None, [*GPUS, "runner.kind='dask'", "runner.max_workers=5"])) == 2
    # a cluster someone else started: leakless cannot count its workers, runner.max_workers says how many
    given = load_config(None, [*GPUS, "runner.kind='dask'", "runner.max_workers=5",
                               "runner.address='tcp://10.0.0.5:8786'"])
    assert batches_in_flight(given) == 5
    assert batches_in_flight(load_config(None, ["runner.kind='dask'", "runner.max_workers=5"])) == 5


def test_each_dask_gpu_worker_is_told_it_is_pinned_to_its_one_gpu():
    workers = dask_gpu_cluster([0, 2])["workers"]
    assert {name: worker["options"]["env"] for name, worker in workers.items()} == {
        "gpu-0": {"CUDA_VISIBLE_DEVICES": "0", PINNED_ENV: "1"},
        "gpu-2": {"CUDA_VISIBLE_DEVICES": "2", PINNED_ENV: "1"}}
    assert {worker["options"]["nthreads"] for worker in workers.values()} == {1}


def test_a_local_ray_has_max_workers_task_slots():
    config = load_config(None, ["runner.kind='ray'", "runner.max_workers=3"])
    init = make_task_runner(config.runner).init_kwargs
    assert init["num_cpus"] == 3 and init["include_dashboard"] is False
