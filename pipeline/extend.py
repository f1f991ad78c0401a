"""Extend: grow a released dataset to a target number of pairs per sub-category.

Three steps, each a plain function the flow wires together:

1. `load_targets`: the targets file (strict, like the build config).
2. `extend_inventory.take_inventory`: what exists under `runs_dir` and `releases_dir`: pairs
   in the latest release of the name, pairs still pending (defined there), and every seed
   ever used (by id, and an element-first one by sub-category and element, whatever its
   category was named then).
3. `plan_extension`: per sub-category, the pairs missing and the unused library
   (then element store) elements to build for them, in that order; with an element
   writer configured, how many elements to grow first where they run short.

A run counts only once finished (its manifest is written last): a killed run's seeds stay
unused, so the next extend plans them again and resumes it, as long as it plans the same seeds
from the same config (settings of how a run is carried out aside, `run_records.HOW_NOT_WHAT`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator

from pipeline.config import BuildConfig, ConfigError, load_config, read_toml, validated
from pipeline.extend_inventory import Inventory, take_inventory
from pipeline.settings import PathText, StrictSettings
from pipeline.records import Element, Seed, content_id
from pipeline.release.versions import check_name
from pipeline.storage import atomic_write_text
from pipeline.elements import known_library
from pipeline.run_records import prompt_changes, prompt_record, with_how_at_defaults
from pipeline.rundir import RunDir
from pipeline.taxonomy import load_taxonomy

DEFAULT_KEY = "default"


class Targets(StrictSettings):
    name: str = Field(description="the release to extend: <releases_dir>/<name>-v<N>/")
    targets: dict[str, int] = Field(description="pairs per sub-category; 'default' for every other one")
    runs_dir: PathText = Path("artifacts/runs")
    releases_dir: PathText = Path("artifacts/releases")
    config: PathText | None = Field(None, description="the build config the new run uses")
    overrides: list[str] = Field(default_factory=list, description="build config overrides, section.key=value")

    @field_validator("name")
    @classmethod
    def _release_name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("runs_dir", "releases_dir")
    @classmethod
    def _folder_or_to_be_made(cls, value: Path) -> Path:
        """A file in the way would only fail deep inside the build that writes there."""
        nearest = next(path for path in (value, *value.parents) if path.exists())
        if not nearest.is_dir():
            raise ValueError(f"{nearest} is not a folder")
        return value

    @field_validator("targets")
    @classmethod
    def _known_sub_categories(cls, value: dict[str, int]) -> dict[str, int]:
        taxonomy = load_taxonomy()
        for key, count in value.items():
            if key != DEFAULT_KEY and taxonomy.parent(key) is None:
                raise ValueError(taxonomy.unknown_sub_category(key))
            if count < 0:
                raise ValueError(f"{key!r}: a target is a count of pairs, >= 0")
        return value

    def per_sub_category(self) -> dict[str, int]:
        """Every sub-category with a target, in taxonomy order; `default` covers the unnamed ones."""
        default = self.targets.get(DEFAULT_KEY)
        wanted = {}
        for sub in load_taxonomy().sub_categories:
            if sub in self.targets:
                wanted[sub] = self.targets[sub]
            elif default is not None:
                wanted[sub] = default
        return wanted


def load_targets(path: Path) -> Targets:
    """The file's `[extend]` table if it has one, else the whole file."""
    data = read_toml(path, "targets file")
    section = data.get("extend", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: extend: should be a table ([extend]), not {section!r}")
    return validated(Targets, section, path)


@dataclass(frozen=True)
class SubCategoryPlan:
    sub_category: str
    target: int
    released: int
    pending: int
    seeds_wanted: int
    unused: int  # library and store elements whose seed was never used
    elements: tuple[Element, ...]  # the ones to build now
    can_grow: bool = False  # an element writer is configured: a shortfall is grown, then built

    @property
    def missing(self) -> int:
        return max(0, self.target - self.released - self.pending)

    @property
    def shortfall(self) -> int:
        """Seeds wanted beyond the unused elements."""
        return self.seeds_wanted - len(self.elements) if self.missing else 0

    @property
    def note(self) -> str:
        if not self.shortfall:
            return ""
        exhausted = f"library exhausted: {len(self.elements)} of {self.seeds_wanted} seeds available"
        if self.can_grow:
            return f"{exhausted}; {self.shortfall} elements to grow"
        return f"{exhausted}; growing more needs an element writer (backends.element_writer = 'llm')"


@dataclass(frozen=True)
class ExtendPlan:
    rows: tuple[SubCategoryPlan, ...]
    pairs_per_seed: float
    skipped: tuple[str, ...] = ()  # the elements file's bad lines, each "file:line: why"

    @property
    def elements(self) -> list[Element]:
        return [element for row in self.rows for element in row.elements]

    @property
    def missing(self) -> int:
        return sum(row.missing for row in self.rows)

    @property
    def to_grow(self) -> dict[str, int]:
        """Sub-category -> elements to grow before building (empty without an element writer)."""
        return {row.sub_category: row.shortfall for row in self.rows if row.can_grow and row.shortfall}

    def markdown(self) -> str:
        lines = [f"Expected pairs per seed: {self.pairs_per_seed:.2f}", "",
                 "| sub-category | target | released | pending | missing | seeds to build "
                 "| unused elements | note |",
                 "|---|--:|--:|--:|--:|--:|--:|---|"]
        lines += [f"| {r.sub_category} | {r.target} | {r.released} | {r.pending} | {r.missing} | "
                  f"{len(r.elements)} | {r.unused} | {r.note} |" for r in self.rows]
        if self.skipped:
            lines += ["", "Lines of the elements file left out:", ""] + [f"- {line}" for line in self.skipped]
        return "\n".join(lines)


def pairs_per_seed(inventory: Inventory, queries_per_seed: int) -> float:
    """The yield seen so far (accepted pairs per seed over every finished run), kept within
    [1, queries_per_seed]; with no history, the best case: every query accepted."""
    if not inventory.seeds_built:
        return float(queries_per_seed)
    return min(float(queries_per_seed), max(1.0, inventory.pairs_built / inventory.seeds_built))


def seed_id(element: Element) -> str:
    return Seed(category=element.category, sub_category=element.sub_category, element=element).id


def plan_extension(targets: Targets, config: BuildConfig, inventory: Inventory) -> ExtendPlan:
    from pipeline.factory import has_element_writer  # here: the stages' imports (0.5 s) wait until a plan is made

    known = known_library(config)
    can_grow = has_element_writer(config) and config.elements.store is not None
    per_seed = pairs_per_seed(inventory, config.run.queries_per_seed)
    rows = []
    for sub, target in targets.per_sub_category().items():
        unused = [element for element in known.elements if element.sub_category == sub
                  and not inventory.has_used(element)]
        missing = max(0, target - inventory.released[sub] - inventory.pending[sub])
        wanted = math.ceil(missing / per_seed)
        rows.append(SubCategoryPlan(sub_category=sub, target=target, released=inventory.released[sub],
                                    pending=inventory.pending[sub], seeds_wanted=wanted, unused=len(unused),
                                    elements=tuple(unused[:wanted]), can_grow=can_grow))
    return ExtendPlan(rows=tuple(rows), pairs_per_seed=per_seed, skipped=tuple(known.skipped))


def plan_from_files(targets_path: Path, config_path: Path | None = None,
                    overrides: list[str] = ()) -> tuple[Targets, BuildConfig, ExtendPlan]:
    """The targets, the build config (`config_path` over the targets' `config`; `overrides`
    after the targets' ones) and the plan for what exists now."""
    targets = load_targets(targets_path)
    config = load_config(config_path or targets.config, [*targets.overrides, *overrides])
    if config.images.pool is not None and config.images.pool.image_first:
        raise ConfigError("extend builds element-first seeds; set images.pool.image_first = false")
    plan = plan_extension(targets, config, take_inventory(targets.runs_dir, targets.releases_dir, targets.name))
    return targets, config, plan


def extension_run_id(plan: ExtendPlan, config: BuildConfig, runs_dir: Path | None = None) -> str:
    """Derived from the chosen seeds and what the config makes, so a killed extend run is resumed by
    the next one (an unfinished run's seeds count as unused, so they are chosen again), also with
    fewer workers or a slower rate limit (`run_records.HOW_NOT_WHAT`), as a resumed build may. When that
    run (under `runs_dir`) was made with prompt files edited since, which a resumed build refuses,
    the id names the prompt files too: a nightly extend builds the seeds again instead of stopping
    on every night's refusal."""
    elements = [element.model_dump(mode="json") for element in plan.elements]
    what = with_how_at_defaults(config).model_dump(mode="json")
    run_id = "extend-" + content_id(elements, what)
    made_with = RunDir(runs_dir, run_id).recorded_prompts() if runs_dir is not None else None
    if made_with is None or not prompt_changes(made_with, prompt_record(config)):
        return run_id
    return "extend-" + content_id(elements, what, prompt_record(config))


def grow_run_id(plan: ExtendPlan, config: BuildConfig) -> str:
    """Derived from what is to grow and what the config makes: a killed extend regrows under the
    same id (the LLM cache answers what was already asked)."""
    return "extend-grow-" + content_id(plan.to_grow, with_how_at_defaults(config).model_dump(mode="json"))


def prepare_run(plan: ExtendPlan, targets: Targets, config: BuildConfig, run_dir: Path) -> BuildConfig:
    """Write the chosen elements (and the plan) into the new run and point its config at them:
    the build then plans exactly these seeds."""
    elements_file = run_dir / "extend_elements.jsonl"
    atomic_write_text(elements_file, "".join(element.model_dump_json() + "\n" for element in plan.elements))
    atomic_write_text(run_dir / "extend_plan.md", plan.markdown() + "\n")
    run = config.run.model_copy(update={
        "size": max(len(row.elements) for row in plan.rows), "categories": [],
        "sub_categories": [row.sub_category for row in plan.rows if row.elements],
        "elements_file": elements_file, "runs_dir": targets.runs_dir,
    })
    only_chosen = config.elements.model_copy(update={"store": None})  # the store's are in elements_file
    return config.model_copy(update={"run": run, "elements": only_chosen})
