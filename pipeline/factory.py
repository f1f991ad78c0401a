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
from pipeline.contracts import ImageChecker, PairChecker, StageName, VSILJudge
from pipeline.stages.base import Stage
from pipeline.stages.leak_filter import LeakFilterStage

STAGE_ORDER = (StageName.drafts, StageName.retrieval, StageName.guardrail, StageName.rewrite,
               StageName.leak_filter, StageName.harm_check, StageName.images)


def _new_llm_client(settings_json: str):
    from pipeline.llm.client import LLMClient
    from pipeline.llm.config import LLMSettings
    from pipeline.llm.process import ClientProcess

    settings = LLMSettings.model_validate_json(settings_json)
    return ClientProcess(settings) if settings.client_process else LLMClient.from_settings(settings)


_llm_client = lru_cache(maxsize=2)(_new_llm_client)


def llm_client(config: BuildConfig):
    """One client per process: it holds the cache, the rate limits and the accounting. Shared by
    every backend that asks, so nobody closes it."""
    return _llm_client(config.llm.model_dump_json())


def own_llm_client(config: BuildConfig):
    """A client of the caller's own, outside the shared one: for work that ends on its own (growing
    elements), whose caller closes it, ending its child process and flushing its cache."""
    return _new_llm_client(config.llm.model_dump_json())


def uses_llm(config: BuildConfig) -> bool:
    return any(getattr(config.backends, backend) == "llm" for backend in LLM_ROLES)


class NoBackendBranch(NotImplementedError):
    """A `[backends]` value the config accepts (its `Literal` in `BackendsConfig`) that no `make_*` function
    here builds: a backend added half-way. Raised, never replaced by a default backend, so a run cannot
    use another backend than the configured one in silence."""


def no_branch(role: str, value: str, function: str) -> NoBackendBranch:
    return NoBackendBranch(f"backends.{role} = {value!r} is accepted by BackendsConfig (pipeline/config.py), "
                           f"but {function} in pipeline/factory.py has no branch for it "
                           "(docs/architecture.md, 'Adding a backend')")


def make_seed_writer(config: BuildConfig) -> SeedWriter:
    if config.backends.seed_writer == "llm":
        from pipeline.backends.llm_text import LLMSeedWriter
        return LLMSeedWriter(llm_client(config), queries_per_seed=config.run.queries_per_seed)
    if config.backends.seed_writer == "templates":
        from pipeline.backends.template_seeds import TemplateSeedWriter
        return TemplateSeedWriter(queries_per_seed=config.run.queries_per_seed)
    raise no_branch("seed_writer", config.backends.seed_writer, "make_seed_writer")


def make_rewriter(config: BuildConfig) -> Rewriter:
    if config.backends.rewriter == "llm":
        from pipeline.backends.llm_text import LLMRewriter
        return LLMRewriter(llm_client(config))
    if config.backends.rewriter == "rules":
        from pipeline.backends.offline_text import RulesRewriter
        return RulesRewriter()
    raise no_branch("rewriter", config.backends.rewriter, "make_rewriter")


@lru_cache(maxsize=1)
def default_detector():
    from pipeline.detect.detector import LeakDetector
    return LeakDetector()


def make_leak_filter(config: BuildConfig) -> LeakFilterStage:
    judge = make_vsil_judge(config)  # first: a value with no branch stops before the detector loads
    return LeakFilterStage(default_detector(), threshold=config.leak_filter.threshold, judge=judge)


def make_vsil_judge(config: BuildConfig) -> VSILJudge | None:
    """The leak filter's second opinion beside the detector; None: the detector alone."""
    if config.backends.vsil_judge == "none":
        return None
    if config.backends.vsil_judge == "llm":
        from pipeline.backends.llm_text import LLMVSILJudge
        return LLMVSILJudge(llm_client(config))
    raise no_branch("vsil_judge", config.backends.vsil_judge, "make_vsil_judge")


def make_harm_check(config: BuildConfig) -> Stage:
    if config.backends.harm_check == "llm":
        from pipeline.backends.llm_text import LLMHarmJudge
        from pipeline.stages.harm_check_llm import LLMHarmCheckStage
        return LLMHarmCheckStage(LLMHarmJudge(llm_client(config)))
    if config.backends.harm_check == "rules":
        from pipeline.backends.minilm import default_embedder
        from pipeline.stages.harm_check import HarmCheckStage
        return HarmCheckStage(default_embedder(), config.harm_check.min_intent_similarity)
    raise no_branch("harm_check", config.backends.harm_check, "make_harm_check")


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
    if config.backends.images == "placeholder":
        from pipeline.backends.placeholder import PlaceholderImages
        return PlaceholderImages(width=config.images.width, height=config.images.height)
    raise no_branch("images", config.backends.images, "make_image_generator")


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


def make_image_checker(config: BuildConfig) -> ImageChecker | None:
    """The image refiner's checker; None: each image is made once, unchecked."""
    if config.backends.image_refiner == "none":
        return None
    if config.backends.image_refiner == "llm":
        from pipeline.backends.llm_text import LLMImageChecker
        return LLMImageChecker(llm_client(config))
    raise no_branch("image_refiner", config.backends.image_refiner, "make_image_checker")


def make_pair_checker(config: BuildConfig) -> PairChecker | None:
    """The release's final filtration (`leakless release`); None: its own rules
    (`RulesPairChecker`, pipeline/release/final_filter.py), which need the release's data to be made."""
    if config.backends.pair_checker == "rules":
        return None
    if config.backends.pair_checker == "llm":
        from pipeline.backends.llm_text import LLMPairChecker
        return LLMPairChecker(llm_client(config))
    raise no_branch("pair_checker", config.backends.pair_checker, "make_pair_checker")


def pair_checker_llm_roles(config: BuildConfig) -> list[str]:
    """The LLM roles the pair checker calls, for the release's preflight before it is made (the pair
    checker is no build backend, so `LLM_ROLES` leaves it out)."""
    return ["pair_checker"] if config.backends.pair_checker == "llm" else []


def has_element_writer(config: BuildConfig) -> bool:
    """Whether elements can be grown (`leakless elements grow`, extend's plan, a build's notes): they ask
    here, not the config value, so a new element writer is one branch in `_element_writer`."""
    return _element_writer(config) is not None


def make_element_writer(config: BuildConfig):
    """What the element grower asks for new elements (it sends the `element_writer` role's batches),
    a client of its own that the grower closes; None with backends.element_writer = "none"."""
    make = _element_writer(config)
    return None if make is None else make(config)


def _element_writer(config: BuildConfig):
    if config.backends.element_writer == "none":
        return None
    if config.backends.element_writer == "llm":
        return own_llm_client
    raise no_branch("element_writer", config.backends.element_writer, "make_element_writer")


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

