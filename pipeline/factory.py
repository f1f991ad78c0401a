"""Backends and stages made from config, once per process and config."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from pipeline.backends.base import ImageGenerator, Rewriter, SeedWriter
from pipeline.config import BuildConfig
from pipeline.stages.base import Stage

STAGE_ORDER = ("drafts", "rewrite", "harm_check", "images")


def make_seed_writer(config: BuildConfig) -> SeedWriter:
    if config.backends.seed_writer == "templates":
        from pipeline.backends.offline_text import TemplateSeedWriter
        return TemplateSeedWriter(queries_per_seed=config.run.queries_per_seed)
    raise NotImplementedError(f"seed writer backend {config.backends.seed_writer!r}")


def make_rewriter(config: BuildConfig) -> Rewriter:
    if config.backends.rewriter == "rules":
        from pipeline.backends.offline_text import RulesRewriter
        return RulesRewriter()
    raise NotImplementedError(f"rewriter backend {config.backends.rewriter!r}")


def make_image_generator(config: BuildConfig) -> ImageGenerator:
    if config.backends.images == "placeholder":
        from pipeline.backends.placeholder import PlaceholderImages
        return PlaceholderImages(width=config.images.width, height=config.images.height)
    raise NotImplementedError(f"image backend {config.backends.images!r}")


@lru_cache(maxsize=1)
def default_detector():
    from pipeline.detect.detector import LeakDetector
    return LeakDetector()


@lru_cache(maxsize=4)
def _stages(config_json: str, run_dir: str) -> dict[str, Stage]:
    from pipeline.backends.minilm import default_embedder
    from pipeline.stages.drafts import DraftStage
    from pipeline.stages.harm_check import HarmCheckStage
    from pipeline.stages.images import ImageStage
    from pipeline.stages.leak_filter import LeakFilter
    from pipeline.stages.rewrite import RewriteStage

    config = BuildConfig.model_validate_json(config_json)
    leak_filter = LeakFilter(default_detector(), threshold=config.leak_filter.threshold)
    return {
        "drafts": DraftStage(make_seed_writer(config)),
        "rewrite": RewriteStage(make_rewriter(config), leak_filter, config.rewrite.max_attempts),
        "harm_check": HarmCheckStage(default_embedder(), config.harm_check.min_intent_similarity),
        "images": ImageStage(make_image_generator(config), Path(run_dir)),
    }


_BUILDING = threading.Lock()


def build_stages(config: BuildConfig, run_dir: Path) -> dict[str, Stage]:
    with _BUILDING:  # task threads (and the warm-up) must not load the models twice
        return _stages(config.model_dump_json(), str(run_dir))


def warm_up(config: BuildConfig, run_dir: Path) -> threading.Thread:
    """Load models in the background while Prefect's temporary server starts (several seconds)."""
    thread = threading.Thread(target=build_stages, args=(config, run_dir), daemon=True, name="warm-up")
    thread.start()
    return thread
