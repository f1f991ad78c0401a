"""Which seeds a build starts from: the first N elements of each chosen sub-category, library
first, then the element store."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from pipeline.config import BuildConfig
from pipeline.records import Element, Seed
from pipeline.elements import known_elements
from pipeline.taxonomy import load_taxonomy

if TYPE_CHECKING:  # the pool brings Pillow and numpy: loaded only by runs that use one
    from pipeline.pool import Pool, Skipped


def chosen_sub_categories(config: BuildConfig) -> list[str]:
    taxonomy = load_taxonomy()
    run = config.run
    subs = run.sub_categories or [
        sub for category in (run.categories or taxonomy.categories) for sub in taxonomy.subs_of(category)
    ]
    if run.categories:
        subs = [sub for sub in subs if taxonomy.parent(sub) in run.categories]
    return subs


def plan_seeds(config: BuildConfig, elements: list[Element] | None = None) -> list[Seed]:
    """Element-first seeds, then (with images.pool.image_first) one seed per captioned pool image."""
    elements = elements if elements is not None else known_elements(config)
    by_sub: dict[str, list[Element]] = defaultdict(list)
    for element in elements:
        by_sub[element.sub_category].append(element)
    seeds: dict[str, Seed] = {}  # by id: an element the store holds twice is one seed
    for sub in chosen_sub_categories(config):
        for element in by_sub.get(sub, [])[:config.run.size]:
            seed = Seed(category=element.category, sub_category=sub, element=element)
            seeds.setdefault(seed.id, seed)
    seeds = list(seeds.values())
    pool = config.images.pool
    if pool is not None and pool.image_first:
        from pipeline.factory import open_pool

        seeds += image_first_seeds(config, open_pool(pool))[0]
    return seeds


def image_first_seeds(config: BuildConfig, pool: Pool) -> tuple[list[Seed], list[Skipped]]:
    """One seed per captioned pool image of the run's categories; the images left out, each
    with its reason."""
    from pipeline.pool import Skipped, seeds_from_pool

    settings = config.images.pool
    seeds, skipped = seeds_from_pool(pool, settings.default_category, settings.default_sub_category)
    file_of = {str(image.path): image.file for image in pool.images}
    chosen = set(chosen_sub_categories(config))
    kept = []
    for seed in seeds:
        if seed.sub_category in chosen:
            kept.append(seed)
        else:
            skipped.append(Skipped(file_of[seed.image_path], outside_the_run(config, seed.sub_category)))
    return kept, skipped


def outside_the_run(config: BuildConfig, sub_category: str) -> str:
    if config.run.sub_categories and sub_category not in config.run.sub_categories:
        return f"sub-category {sub_category!r} not in this run's sub_categories"
    return f"category {load_taxonomy().parent(sub_category)!r} not in this run's categories"


def library_shortfalls(config: BuildConfig, seeds: list[Seed]) -> dict[str, int]:
    """The chosen sub-categories with fewer elements than run.size asks for, and how many they have."""
    have = Counter(seed.sub_category for seed in seeds if seed.image_path is None)  # element-first seeds
    return {sub: have[sub] for sub in chosen_sub_categories(config) if have[sub] < config.run.size}


def pool_skipped(config: BuildConfig) -> list[dict]:
    """Pool images a run could not use, each with its reason (unreadable, no caption, no category,
    a category the run does not build)."""
    pool = config.images.pool
    if pool is None:
        return []
    from pipeline.factory import open_pool

    loaded = open_pool(pool)
    skipped = list(loaded.skipped)
    if pool.image_first:
        skipped += image_first_seeds(config, loaded)[1]
    return [{"file": s.file, "reason": s.reason} for s in skipped]
