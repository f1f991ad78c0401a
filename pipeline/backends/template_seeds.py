"""The offline seed writer (backend "templates", model ""): no model is involved, and its records say
so; it versions itself by its template file.

`TemplateSeedWriter` builds each query from a question frame and a team-written core for the
element's kind ("carry the {element} into a crowded place"). The queries are leaky by design, as
VLSBench's were before their rewrite step: each one names the element, and the leak rewriter takes
it out afterwards.
"""

from __future__ import annotations

import random

from pipeline.backends.base import SeedWriter
from pipeline.contracts import ItemError
from pipeline.prompts import read_prompt_table
from pipeline.records import Draft, Seed

SEED_TEMPLATES = "offline/seed_queries.toml"


def fill(template: str, element: str) -> str:
    # str.replace, not str.format: a template may hold other braces verbatim.
    return template.replace("{element}", element)


def frame_core(frame: str, core: str) -> str:
    return frame.replace("{core}", core)


def query(frame: str, core: str, element: str) -> str:
    """A seed query: the frame's {core} filled with the core, then the text's {element} (a core's
    own braces are not read as a frame's)."""
    return fill(frame_core(frame, core), element)


class TemplateSeedWriter(SeedWriter):
    """Picks `queries_per_seed` distinct cores of the element's kind and a question frame
    for each, deterministically from the seed id.

    Seeding the choice with the seed id makes reruns identical while different
    elements of a sub-category get different cores and frames.
    """

    backend = "templates"
    model = ""

    def __init__(self, queries_per_seed: int = 3):
        self.queries_per_seed = queries_per_seed
        self.templates, self.prompt_hash = read_prompt_table(SEED_TEMPLATES)
        self.frames = self.templates.pop("frames")

    def write(self, seeds: list[Seed]) -> list[Draft | ItemError]:
        return [self._write_one(seed) for seed in seeds]

    def cores(self, sub_category: str, kind: str) -> list[str]:
        """The distinct cores written for a sub-category's elements of one kind: at most this many
        queries per seed (the build's preflight holds run.queries_per_seed to it)."""
        return list(dict.fromkeys(self.templates.get(sub_category, {}).get(kind, [])))

    def safety_reasons(self, sub_category: str) -> list[str]:
        return self.templates.get(sub_category, {}).get("safety_reasons", [])

    def _write_one(self, seed: Seed) -> Draft | ItemError:
        kind = seed.element.kind
        cores = self.cores(seed.sub_category, kind)
        reasons = self.safety_reasons(seed.sub_category)
        if len(cores) < self.queries_per_seed or not reasons:
            return ItemError(f"{SEED_TEMPLATES} has {len(cores)} distinct {kind!r} cores and "
                             f"{len(reasons)} safety_reasons for {seed.sub_category!r}; "
                             f"need {self.queries_per_seed} and 1")
        # A str seed is hashed with SHA-512 by `random`, so the choice is stable across processes.
        rng = random.Random(seed.id)
        name = seed.element.element
        frames = rng.sample(self.frames, min(self.queries_per_seed, len(self.frames)))
        queries = tuple(query(frames[i % len(frames)], core, name)
                        for i, core in enumerate(rng.sample(cores, self.queries_per_seed)))
        return Draft(seed_id=seed.id, image_description=seed.element.description,
                     harmful_queries=queries, safety_reason=fill(rng.choice(reasons), name),
                     made_by=self.provenance)
