"""The Prefect task runner named in config: threads by default, Dask or Ray as options.

Only the per-batch stages run on it; they are coarse (a batch per task), so the
100 ms a Dask task costs is small beside the work. The stages that benefit are
the model-bound ones (rewrite with an LLM, images with diffusers); the offline
default is fast enough on threads.

GPUs, one image-model copy each, on every runner: the thread pool shares one
generator holding one pipeline per GPU; a Dask cluster leakless starts gets one
worker per GPU, each seeing only its own (`CUDA_VISIBLE_DEVICES`); Ray tasks of
the images stage ask for `num_gpus=1`, and Ray gives each its own GPU. A Dask
cluster leakless did not start cannot be placed that way, so it is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from functools import lru_cache

from pipeline.backends.diffusers_devices import PINNED_ENV
from pipeline.config import BuildConfig, RunnerConfig
from pipeline.stopping import clear_stop, request_stop


def build_gpus(config: BuildConfig) -> list[int]:
    """The GPU indices the build's image model spreads over, one worker each; empty on CPU."""
    if config.backends.images != "diffusers":
        return []
    from pipeline.backends.diffusers_devices import gpu_indices

    return gpu_indices(config.images.diffusers.devices)


def build_task_runner(config: BuildConfig):
    """The task runner a build of `config` runs on: its [runner], over the GPUs its image model uses."""
    return make_task_runner(config.runner, build_gpus(config))


def batches_in_flight(config: BuildConfig) -> int:
    """How many batches the build walks through their stages at once: one a worker (one a GPU on
    the Dask cluster leakless starts for a GPU image model). On a cluster leakless did not start,
    set `runner.max_workers` to the number of its workers."""
    gpus = build_gpus(config)
    if config.runner.kind == "dask" and gpus and not config.runner.address:
        return len(gpus)
    return config.runner.max_workers


def check_gpu_placement(config: RunnerConfig, gpus: Sequence[int]) -> None:
    """Raises ValueError (one line) for a runner that cannot give each worker its own GPU."""
    if gpus and config.kind == "dask" and config.address:
        raise ValueError("runner.address: leakless cannot give each worker of a Dask cluster it did not "
                         "start its own GPU; leave runner.address empty (leakless then starts one worker "
                         "per GPU) or use runner.kind = 'ray'")


def dask_gpu_cluster(gpus: Sequence[int]) -> dict:
    """SpecCluster arguments for one single-threaded worker process per GPU, each seeing only it."""
    workers = {f"gpu-{index}": {"cls": "distributed.Nanny", "options": {
        "nthreads": 1, "env": {"CUDA_VISIBLE_DEVICES": str(index), PINNED_ENV: "1"}}}
        for index in gpus}
    return {"workers": workers,
            "scheduler": {"cls": "distributed.Scheduler", "options": {"dashboard_address": None}}}


def make_task_runner(config: RunnerConfig, gpus: Sequence[int] = ()):
    check_gpu_placement(config, gpus)
    if config.kind == "threads":
        return stopping_thread_runner()(max_workers=config.max_workers)
    if config.kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:
            raise ValueError("runner.kind = 'dask' needs prefect-dask: pip install 'leakless[dask]'") from None
        if config.address:
            return DaskTaskRunner(address=config.address)
        if gpus:
            return DaskTaskRunner(cluster_class="distributed.SpecCluster", cluster_kwargs=dask_gpu_cluster(gpus))
        return DaskTaskRunner(cluster_kwargs={"n_workers": config.max_workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    try:
        from prefect_ray import RayTaskRunner
    except ImportError:
        raise ValueError("runner.kind = 'ray' needs prefect-ray: pip install 'leakless[ray]'") from None
    if config.address:
        return RayTaskRunner(address=config.address)
    # A local Ray: as many task slots as max_workers (Ray finds the GPUs itself), no dashboard.
    return RayTaskRunner(init_kwargs={"num_cpus": config.max_workers, "include_dashboard": False})


@lru_cache(maxsize=1)
def stopping_thread_runner() -> type:
    """Prefect's thread pool runner, whose running stages a signal stops. Prefect takes SIGTERM during a
    flow (its handler raises TerminationSignal in the main thread), and Ctrl-C raises KeyboardInterrupt
    there; either way the runner's exit then waited for its worker threads, which finished their stages
    and checkpointed them. Here the exit first stops them (`pipeline.stopping`); a flow that fails
    otherwise still lets them finish, as `run_depth_first` says."""
    from prefect.exceptions import TerminationSignal
    from prefect.task_runners import ThreadPoolTaskRunner

    class StoppingThreadPoolTaskRunner(ThreadPoolTaskRunner):
        def __enter__(self):
            clear_stop()  # a stop ended an earlier flow of this process, not this one
            return super().__enter__()

        def __exit__(self, exc_type, exc_value, traceback) -> None:
            if exc_type is not None and issubclass(exc_type, (KeyboardInterrupt, TerminationSignal)):
                request_stop()
            super().__exit__(exc_type, exc_value, traceback)

    return StoppingThreadPoolTaskRunner


def stage_placement(config: BuildConfig, stage: str):
    """The context to submit a stage's tasks in: on Ray, the images stage's tasks each ask for
    one GPU when the image model runs on GPUs (Ray then sets their CUDA_VISIBLE_DEVICES)."""
    if config.runner.kind != "ray" or stage != "images" or not build_gpus(config):
        return nullcontext()
    from prefect_ray.context import remote_options

    return remote_options(num_gpus=1, runtime_env={"env_vars": {PINNED_ENV: "1"}})
