"""The Prefect task runner named in config: threads by default, Dask or Ray as options.

Only the per-batch stages run on it; they are coarse (a batch per task), so the
100 ms a Dask task costs is small beside the work. The stages that benefit are
the model-bound ones (rewrite with an LLM, images with diffusers); the offline
default is fast enough on threads.
"""

from __future__ import annotations

from pipeline.config import RunnerConfig


def make_task_runner(config: RunnerConfig):
    if config.kind == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner
        return ThreadPoolTaskRunner(max_workers=config.max_workers)
    if config.kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:
            raise ValueError("runner.kind = 'dask' needs prefect-dask: pip install 'leakless[dask]'") from None
        if config.address:
            return DaskTaskRunner(address=config.address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": config.max_workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    try:
        from prefect_ray import RayTaskRunner
    except ImportError:
        raise ValueError("runner.kind = 'ray' needs prefect-ray: pip install prefect-ray") from None
    return RayTaskRunner(address=config.address) if config.address else RayTaskRunner()
