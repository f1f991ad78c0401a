"""Backends and stages made from config, once per process and config.

The build is a visible list of stage objects (`make_pipeline`), in `STAGE_ORDER`:
drafts -> retrieval -> guardrail -> rewrite -> leak_filter -> harm_check -> images
(retrieval only acts when the images come from a pool). Each stage gets
only the settings it needs; the config is read here and nowhere below.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from pipeline.backends.base import ImageGenerator, Rewriter, SeedWriter
from pipeline.config import LLM_ROLES, BuildConfig
from pipeline.contracts import StageName
from pipeline.stages.base import Stage
from pipeline.stages.leak_filter import LeakFilterStage

STAGE_ORDER = (StageName.drafts, StageName.retrieval, StageName.guardrail, StageName.rewrite,
               StageName.leak_filter, StageName.harm_check, StageName.images)


@lru_cache(maxsize=2)
def _llm_client(settings_json: str):
    from pipeline.llm.client import LLMClient
    from pipeline.llm.config import LLMSettings
    from pipeline.llm.process import ClientProcess

    settings = LLMSettings.model_validate_json(settings_json)
    return ClientProcess(settings) if settings.client_process else LLMClient.from_settings(settings)


def llm_client(config: BuildConfig):
    """One client per process: it holds the cache, the rate limits and the accounting."""
    return _llm_client(config.llm.model_dump_json())


def uses_llm(config: BuildConfig) -> bool:
    return any(getattr(config.backends, backend) == "llm" for backend in LLM_ROLES)


def make_seed_writer(config: BuildConfig) -> SeedWriter:
    if config.backends.seed_writer == "llm":
        from pipeline.backends.llm_text import LLMSeedWriter
        return LLMSeedWriter(llm_client(config), queries_per_seed=config.run.queries_per_seed)
    from pipeline.backends.offline_text import TemplateSeedWriter
    return TemplateSeedWriter(queries_per_seed=config.run.queries_per_seed)


def make_rewriter(config: BuildConfig) -> Rewriter:
    if config.backends.rewriter == "llm":
        from pipeline.backends.llm_text import LLMRewriter
        return LLMRewriter(llm_client(config))
    from pipeline.backends.offline_text import RulesRewriter
    return RulesRewriter()


@lru_cache(maxsize=1)
def default_detector():
    from pipeline.detect.detector import LeakDetector
    return LeakDetector()


def make_leak_filter(config: BuildConfig) -> LeakFilterStage:
    judge = None
    if config.backends.vsil_judge == "llm":
        from pipeline.backends.llm_text import LLMVSILJudge
        judge = LLMVSILJudge(llm_client(config))
    return LeakFilterStage(default_detector(), threshold=config.leak_filter.threshold, judge=judge)


def make_harm_check(config: BuildConfig) -> Stage:
    if config.backends.harm_check == "llm":
        from pipeline.backends.llm_text import LLMHarmJudge
        from pipeline.stages.harm_check_llm import LLMHarmCheckStage
        return LLMHarmCheckStage(LLMHarmJudge(llm_client(config)))
    from pipeline.backends.minilm import default_embedder
    from pipeline.stages.harm_check import HarmCheckStage
    return HarmCheckStage(default_embedder(), config.harm_check.min_intent_similarity)


def make_image_generator(config: BuildConfig, run_dir: Path) -> ImageGenerator:
    if config.backends.images == "diffusers":
        from pipeline.backends.diffusers_images import DiffusersImageGenerator
        return DiffusersImageGenerator(config.images.diffusers)
    if config.backends.images == "pool":
        from pipeline.backends.minilm import default_embedder
        from pipeline.env import artifacts_dir
        from pipeline.pool import PoolRetriever, RetrievalConfig

        settings = config.images.pool
        pool = open_pool(settings)
        return PoolRetriever(pool, artifacts_dir() / "pool-index" / pool.name, default_embedder(),
                             RetrievalConfig(min_similarity=settings.min_similarity, max_uses=settings.max_uses),
                             assignments_file=run_dir / "pool-assignments.json",
                             serving=image_first_files(config, pool) if settings.image_first else ())
    from pipeline.backends.placeholder import PlaceholderImages
    return PlaceholderImages(width=config.images.width, height=config.images.height)


@lru_cache(maxsize=2)
def _open_pool(settings_json: str):
    from pipeline.config import PoolConfig
    from pipeline.pool import load_pool

    settings = PoolConfig.model_validate_json(settings_json)
    return load_pool(settings.folder, settings.captions_file, settings.name,
                     links_outside=settings.allow_links_outside)


def image_first_files(config: BuildConfig, pool) -> list[str]:
    """The pool files that image-first seeds of this run start from: each already serves once."""
    from pipeline.plan import plan_seeds

    file_of = {str(image.path): image.file for image in pool.images}
    return [file_of[seed.image_path] for seed in plan_seeds(config) if seed.image_path in file_of]


def open_pool(settings):
    """A pool is read once per process: loading decodes every image to find the broken ones."""
    return _open_pool(settings.model_dump_json())


def make_image_checker(config: BuildConfig):
    if config.backends.image_refiner == "llm":
        from pipeline.backends.llm_text import LLMImageChecker
        return LLMImageChecker(llm_client(config))
    return None


def make_pipeline(config: BuildConfig, run_dir: Path) -> list[Stage]:
    """The build's stages, in order. The rewrite loop asks the leak filter whether to retry,
    so both share one filter object and one threshold."""
    from pipeline.pool import PoolRetriever
    from pipeline.stages.drafts import DraftStage
    from pipeline.stages.guardrail import GuardrailStage
    from pipeline.stages.images import ImageStage
    from pipeline.stages.retrieval import RetrievalStage
    from pipeline.stages.rewrite import RewriteStage

    leak_filter = make_leak_filter(config)
    images = make_image_generator(config, run_dir)
    stages = [
        DraftStage(make_seed_writer(config)),
        RetrievalStage(images if isinstance(images, PoolRetriever) else None, run_dir),
        GuardrailStage(),
        RewriteStage(make_rewriter(config), leak_filter, config.rewrite.max_attempts),
        leak_filter,
        make_harm_check(config),
        ImageStage(images, run_dir, checker=make_image_checker(config), max_rounds=config.images.max_refine_rounds,
                   save_every=(config.images.diffusers.batch_size * len(images.devices)
                               if config.backends.images == "diffusers" else None)),
    ]
    check_stage_order([stage.name for stage in stages])
    return stages


def check_stage_order(names: list[str]) -> None:
    """The flow submits stages by `STAGE_ORDER`, the checkpoints and the progress bars follow it: a stage
    `make_pipeline` makes that it lacks would never run, so that is a bug to stop at, naming the stage."""
    if tuple(names) == STAGE_ORDER:
        return
    missing = [name for name in names if name not in STAGE_ORDER]
    twice = [str(name) for name in dict.fromkeys(names) if names.count(name) > 1]
    absent = [name.value for name in STAGE_ORDER if name not in names]
    problem = (f"{', '.join(map(str, missing))} not in STAGE_ORDER (pipeline/factory.py)" if missing else
               f"{', '.join(twice)} made twice by make_pipeline" if twice else
               f"{', '.join(absent)} in STAGE_ORDER but not made by make_pipeline" if absent else
               "in another order than STAGE_ORDER")
    raise RuntimeError(f"make_pipeline's stages ({', '.join(map(str, names))}): {problem}")


@lru_cache(maxsize=4)
def _stages(config_key: str, run_dir: str) -> dict[str, Stage]:
    config = BuildConfig.model_validate_json(config_key)
    return {stage.name: stage for stage in make_pipeline(config, Path(run_dir))}


_BUILDING = threading.Lock()


def config_key(config: BuildConfig) -> str:
    """The config as the stages' cache key: computed once per run, passed to every task."""
    return config.model_dump_json()


def build_stages(config_key: str, run_dir: Path) -> dict[str, Stage]:
    with _BUILDING:  # task threads (and build's make_stages) must not load the models twice
        return _stages(config_key, str(run_dir))

