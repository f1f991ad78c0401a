"""Which seeds a build starts from: the first N elements of each chosen sub-category, library
(the shipped one, or `run.elements_file`) first, then the element store; and a record of that
choice, which a resumed run must match (`rundir`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.config import BuildConfig
from pipeline.records import Element, Seed, content_id
from pipeline.elements import store_of
from pipeline.hashing import sha256_file
from pipeline.taxonomy import ELEMENTS_FILE, load_taxonomy
from pipeline.taxonomy.element_file import library_file

if TYPE_CHECKING:  # the pool brings Pillow and numpy: loaded only by runs that use one
    from pipeline.pool import Pool, Skipped


@dataclass(frozen=True)
class Sourced:
    source: str  # "library" (the shipped one), "elements file" (run.elements_file) or "store"
    element: Element


@dataclass(frozen=True)
class ElementChoice:
    """The elements a build's element-first seeds start from, where each came from, and what was
    left out: the elements file's bad lines, and the elements beyond run.size."""
    chosen: list[Sourced]
    available: Counter  # per chosen sub-category: its distinct elements
    beyond_size: Counter  # per source: elements of the chosen sub-categories that run.size left out
    skipped: list[str]  # the elements file's bad lines, each "file:line: why"
    record: dict  # what a resumed run must match: a digest of `chosen`, and where they came from

    def shortfalls(self, config: BuildConfig) -> dict[str, int]:
        """The chosen sub-categories with fewer elements than run.size asks for, and how many they have."""
        return {sub: have for sub, have in self.available.items() if have < config.run.size}

    def notes(self, config: BuildConfig) -> list[str]:
        """What a build says before it starts: the lines it skipped, how many elements each source
        gave, and where run.size asks for more than there are."""
        notes = [f"skipped {line}" for line in self.skipped]
        used = Counter(item.source for item in self.chosen)
        sources = [self.record["library"]["source"]] + (["store"] if self.record["store"] else [])
        notes.append("elements used: " + ", ".join(f"{used[source]} from the {source}" for source in sources)
                     + _left_out(self.beyond_size, config))
        from pipeline.factory import has_element_writer

        grow = ("grow more with `leakless elements grow`" if has_element_writer(config)
                else "growing more needs an element writer")
        notes += [f"{sub}: run.size asks for {config.run.size} elements, there are {have} "
                  f"({' and '.join(sources)}); {grow} (docs/elements.md)"
                  for sub, have in self.shortfalls(config).items()]
        return notes


def _left_out(beyond_size: Counter, config: BuildConfig) -> str:
    if not beyond_size:
        return ""
    counts = ", ".join(f"{n} from the {source}" for source, n in beyond_size.items())
    return (f"; not used: {counts} (run.size = {config.run.size} takes the first elements of each "
            "sub-category, library first)")


def choose_elements(config: BuildConfig) -> ElementChoice:
    """The library's elements, then the store's, cut to run.size per chosen sub-category."""
    path = config.run.elements_file or ELEMENTS_FILE
    library = library_file(path)
    source = "elements file" if config.run.elements_file else "library"
    store = store_of(config)
    stored = store.elements() if store else []
    chosen, available, beyond_size = first_per_sub_category(
        config, [Sourced(source, element) for element in library.elements] + [Sourced("store", e) for e in stored])
    elements = [item.element.model_dump(mode="json") for item in chosen]
    record = {
        "digest": content_id(elements),
        "elements": elements,  # whole: what the run's seeds were made from, terms and all
        "per_source": dict(Counter(item.source for item in chosen)),
        "library": {"source": source, "file": str(path), "sha256": sha256_file(path)},
        "store": {"folder": str(store.folder), "versions": [v.name for v in store.versions()]} if store else None,
    }
    return ElementChoice(chosen=chosen, available=available, beyond_size=beyond_size,
                         skipped=library.skipped, record=record)


def first_per_sub_category(config: BuildConfig, sourced: list[Sourced]) -> tuple[list[Sourced], Counter, Counter]:
    """The first run.size elements of each chosen sub-category, an element the store holds twice once
    (taken before repeats are dropped, as plans always were: an unchanged config plans the same seeds),
    how many distinct elements each has, and how many per source run.size left out."""
    by_sub: dict[str, list[tuple[str, Sourced]]] = defaultdict(list)
    for item in sourced:
        seed_id = Seed(category=item.element.category, sub_category=item.element.sub_category, element=item.element).id
        by_sub[item.element.sub_category].append((seed_id, item))
    chosen, available, beyond_size = [], Counter(), Counter()
    for sub in chosen_sub_categories(config):
        first: dict[str, Sourced] = {}  # seed id -> its first item, in order
        for seed_id, item in by_sub[sub]:
            first.setdefault(seed_id, item)
        taken = {seed_id for seed_id, _ in by_sub[sub][:config.run.size]}
        available[sub] = len(first)
        chosen += [item for seed_id, item in first.items() if seed_id in taken]
        beyond_size.update(item.source for seed_id, item in first.items() if seed_id not in taken)
    return chosen, available, beyond_size


def chosen_sub_categories(config: BuildConfig) -> list[str]:
    """run.sub_categories, else every sub-category of the chosen categories (the config refuses a
    sub-category outside them)."""
    taxonomy = load_taxonomy()
    run = config.run
    return run.sub_categories or [
        sub for category in (run.categories or taxonomy.categories) for sub in taxonomy.subs_of(category)
    ]


def plan_seeds(config: BuildConfig, elements: list[Element] | None = None) -> list[Seed]:
    """Element-first seeds (from `choose_elements`, or the given elements), then (with
    images.pool.image_first) one seed per captioned pool image."""
    chosen = (choose_elements(config).chosen if elements is None else
              first_per_sub_category(config, [Sourced("given", element) for element in elements])[0])
    seeds = [Seed(category=item.element.category, sub_category=item.element.sub_category, element=item.element)
             for item in chosen]
    pool = config.images.pool
    if pool is not None and pool.image_first:
        from pipeline.factory import open_pool

        seeds += image_first_seeds(config, open_pool(pool))[0]
    return seeds


def image_first_seeds(config: BuildConfig, pool: Pool) -> tuple[list[Seed], list[Skipped]]:
    """One seed per captioned pool picture of the run's categories; the images left out, each
    with its reason. Of byte-identical copies under several names only the first seeds: a release
    shows a picture once, so the other seeds' pairs would all be dropped as image duplicates."""
    from pipeline.pool import Skipped, seeds_from_pool

    settings = config.images.pool
    seeds, skipped = seeds_from_pool(pool, settings.default_category, settings.default_sub_category)
    file_of = {str(image.path): image.file for image in pool.images}
    chosen = set(chosen_sub_categories(config))
    kept, seeded_by = [], {}
    for seed in seeds:
        file = file_of[seed.image_path]
        if seed.sub_category not in chosen:
            skipped.append(Skipped(file, outside_the_run(config, seed.sub_category)))
        elif seed.image_sha256 in seeded_by:
            skipped.append(Skipped(file, f"the same picture as {seeded_by[seed.image_sha256]} (byte-identical), "
                                         "which seeds it"))
        else:
            seeded_by[seed.image_sha256] = file
            kept.append(seed)
    return kept, skipped


def outside_the_run(config: BuildConfig, sub_category: str) -> str:
    if config.run.sub_categories and sub_category not in config.run.sub_categories:
        return f"sub-category {sub_category!r} not in this run's sub_categories"
    return f"category {load_taxonomy().parent(sub_category)!r} not in this run's categories"


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
