"""Build configuration: a TOML file, validated strictly, with CLI overrides.

Unknown keys are errors, not silently ignored, because a misspelt threshold
would otherwise build a whole benchmark with the default one. Reading the file and
its one-line errors are `pipeline.config_files`'s, which other settings files share;
how a `--set` is written into the data is `pipeline.config_overrides`'.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pipeline import config_overrides
from pipeline.backends.diffusers_config import DiffusersConfig
from pipeline.config_files import ConfigError, one_line, read_toml, validated
from pipeline.llm.config import LLMSettings
from pipeline.settings import PathText, StrictSettings, with_its_base
from pipeline.taxonomy import load_taxonomy

# ConfigError, one_line, read_toml and validated are pipeline.config_files', named here too for the
# modules that import them from pipeline.config.
__all__ = ["BackendsConfig", "BuildConfig", "ConfigError", "ElementsConfig", "ExportConfig", "HarmCheckConfig",
           "ImagesConfig", "LLM_ROLES", "LeakFilterConfig", "POOL_NAME", "PoolConfig", "RewriteConfig", "RunConfig",
           "RunnerConfig", "apply_override", "in_category", "load_config", "one_line", "read_toml", "validated"]


def in_category(sub_category: str, category: str | None) -> str:
    """The start of every refusal of a sub-category outside the category it is paired with."""
    return f"sub-category {sub_category!r} is in category {category!r}"


class RunConfig(StrictSettings):
    size: int = Field(4, ge=1, description="elements per sub-category")
    queries_per_seed: int = Field(3, ge=1, le=10)
    batch_size: int = Field(128, ge=64, description="items per Prefect task; never fewer than 64")
    categories: list[str] = Field(default_factory=list, description="empty means all of the taxonomy's")
    sub_categories: list[str] = Field(default_factory=list, description="empty means all of the chosen categories")
    elements_file: PathText | None = None
    runs_dir: PathText = Path("artifacts/runs")

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        known = load_taxonomy().categories
        for name in value:
            if name not in known:
                raise ValueError(f"unknown category {name!r} (known: {', '.join(known)})")
        return value

    @field_validator("sub_categories")
    @classmethod
    def _known_sub_categories(cls, value: list[str]) -> list[str]:
        taxonomy = load_taxonomy()
        for name in value:
            if taxonomy.parent(name) is None:
                raise ValueError(taxonomy.unknown_sub_category(name))
        return value

    @model_validator(mode="after")
    def _sub_categories_in_categories(self) -> RunConfig:
        """A sub-category outside the chosen categories would be left out without a word."""
        for name in self.sub_categories:
            category = load_taxonomy().parent(name)
            if self.categories and category not in self.categories:
                raise ValueError(f"{in_category(name, category)}, which run.categories "
                                 f"({', '.join(self.categories)}) leaves out")
        return self

    @field_validator("elements_file")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and value.is_dir():  # not "not found": it is there, but is no file
            raise ValueError(f"{with_its_base(value)} is a folder, not an elements file")
        if value is not None and not value.is_file():
            raise ValueError(f"file not found: {with_its_base(value)}")
        return value


class BackendsConfig(StrictSettings):
    seed_writer: Literal["templates", "llm"] = "templates"
    rewriter: Literal["rules", "llm"] = "rules"
    harm_check: Literal["rules", "llm"] = "rules"
    vsil_judge: Literal["none", "llm"] = "none"
    images: Literal["placeholder", "diffusers", "pool"] = "placeholder"
    image_refiner: Literal["none", "llm"] = "none"
    pair_checker: Literal["rules", "llm"] = "rules"  # the release's final filtration
    element_writer: Literal["none", "llm"] = "none"  # grows elements when library and store run dry


# The LLM roles each build [backends] choice calls when it is "llm".
LLM_ROLES = {"seed_writer": ("seed_writer",), "rewriter": ("leak_rewriter",), "harm_check": ("harm_filter",),
             "vsil_judge": ("vsil_judge",), "image_refiner": ("image_refiner",),
             "element_writer": ("element_writer",)}


class RewriteConfig(StrictSettings):
    max_attempts: int = Field(3, ge=1, le=10, description="rewrite -> detect rounds per query")


class LeakFilterConfig(StrictSettings):
    threshold: float | None = Field(None, ge=0.0, le=1.0, description="empty means the detector's shipped threshold")


class HarmCheckConfig(StrictSettings):
    min_intent_similarity: float = Field(0.35, ge=0.0, le=1.0)


# A pool's name is a folder of the caption index (artifacts/pool-index/<name>) and ships as its pairs' `source`.
POOL_NAME = re.compile(r"\w[\w.-]{0,99}")


class PoolConfig(StrictSettings):
    folder: PathText
    captions_file: PathText | None = None
    name: str | None = Field(None, description="default: the folder's name")
    min_similarity: float = Field(0.4, ge=-1, le=1)
    max_uses: int = Field(1, ge=1, description="how often one image (by content) may serve in one run; "
                                               "a release keeps one seed's pairs per image")
    image_first: bool = Field(False, description="also start seeds from the pool's captioned images")
    allow_links_outside: bool = Field(False, description="read links that lead out of the pool folder (a folder "
                                                         "of links into a dataset you trust)")
    default_category: str | None = None
    default_sub_category: str | None = None

    @field_validator("folder")
    @classmethod
    def _folder_exists(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"pool folder not found: {with_its_base(value)}")
        return value

    @field_validator("name")
    @classmethod
    def _usable_name(cls, value: str | None) -> str | None:
        if value is not None and not POOL_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is no pool name: letters, digits, '.', '_' and '-', first a letter or "
                             f"digit, at most 100 (it names a folder of the caption index and ships as `source`)")
        return value

    @model_validator(mode="after")
    def _folder_name_usable(self) -> PoolConfig:
        # a folder's own name is one path part, so any is safe but those that name no folder
        if self.name is None and self.folder.name in ("", ".", ".."):
            raise ValueError(f"the pool folder {str(self.folder)!r} has no name of its own to name the pool by: "
                             f"set images.pool.name")
        return self

    @field_validator("default_category")
    @classmethod
    def _known_category(cls, value: str | None) -> str | None:
        return value if value is None else RunConfig._known_categories([value])[0]

    @field_validator("default_sub_category")
    @classmethod
    def _known_sub_category(cls, value: str | None) -> str | None:
        return value if value is None else RunConfig._known_sub_categories([value])[0]

    @model_validator(mode="after")
    def _defaults_go_together(self) -> PoolConfig:
        """Seeds of a pair from two categories would be built, then all dropped by the release
        (release.miscategorised)."""
        if self.default_category and self.default_sub_category:
            category = load_taxonomy().parent(self.default_sub_category)
            if category != self.default_category:
                raise ValueError(f"{in_category(self.default_sub_category, category)}, not "
                                 f"default_category {self.default_category!r}: give a pair of one category")
        return self


class ImagesConfig(StrictSettings):
    width: int = Field(256, ge=64, le=2048, description="placeholder size")
    height: int = Field(256, ge=64, le=2048, description="placeholder size")
    max_refine_rounds: int = Field(3, ge=1, le=10, description="generate -> check -> refine rounds")
    diffusers: DiffusersConfig = DiffusersConfig()
    pool: PoolConfig | None = None


class ExportConfig(StrictSettings):
    rows_per_shard: int = Field(1000, ge=1)


class ElementsConfig(StrictSettings):
    store: PathText | None = Field(Path("artifacts/elements"),
                               description="the grown element store, read beside the library")
    max_similarity: float = Field(0.85, gt=0, le=1, description="MiniLM cosine of descriptions at "
                                  "which a proposal is a near duplicate of a known element")
    per_request: int = Field(10, ge=1, le=50, description="elements asked for in one request")
    max_requests: int = Field(200, ge=1, description="requests per sub-category in one grow")

    @field_validator("store", mode="before")
    @classmethod
    def _not_empty(cls, value):
        # "" read as Path("."): the store's .lock and versions went into the working directory
        if isinstance(value, str) and not value.strip():
            raise ValueError("empty: name a folder, or null for no store")
        return value

    @field_validator("store")
    @classmethod
    def _a_folder(cls, value: Path | None) -> Path | None:
        # a file was read as an empty store (elements.store=grown.jsonl, meant for run.elements_file)
        if value is not None and value.exists() and not value.is_dir():
            raise ValueError(f"{with_its_base(value)} is a file, not a folder: the element store is a folder of "
                             "versions (run.elements_file reads one elements file)")
        return value


class RunnerConfig(StrictSettings):
    kind: Literal["threads", "dask", "ray"] = "threads"
    max_workers: int = Field(4, ge=1, description="threads, Dask LocalCluster workers or a local Ray's CPUs; "
                                                   "also the batches in flight at once")
    address: str | None = Field(None, description="an existing Dask scheduler or Ray cluster")

    @field_validator("address")
    @classmethod
    def _host_and_port(cls, value: str | None, info: ValidationInfo) -> str | None:
        # a bad one failed only inside the flow, as a traceback, once the run folder was made
        if value is not None and not (info.data.get("kind") == "ray" and value in RAY_OWN_ADDRESSES):
            address_host_port(value)
        return value


RAY_OWN_ADDRESSES = ("auto", "local")  # Ray finds (or starts) the cluster itself


def address_host_port(address: str) -> tuple[str, int]:
    """The host and port of a cluster address ([scheme://]host:port), or ValueError saying what it lacks."""
    scheme, _, rest = address.strip().rpartition("://")
    try:
        parts = urlsplit(f"//{rest}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or not port or parts.path or (scheme and not scheme.isalpha()):
        raise ValueError(f"{address!r} is no [scheme://]host:port (such as tcp://10.0.0.5:8786 for Dask, "
                         f"ray://10.0.0.5:10001 or auto for Ray)")
    return host, port


class BuildConfig(StrictSettings):
    run: RunConfig = RunConfig()
    backends: BackendsConfig = BackendsConfig()
    rewrite: RewriteConfig = RewriteConfig()
    leak_filter: LeakFilterConfig = LeakFilterConfig()
    harm_check: HarmCheckConfig = HarmCheckConfig()
    images: ImagesConfig = ImagesConfig()
    export: ExportConfig = ExportConfig()
    runner: RunnerConfig = RunnerConfig()
    elements: ElementsConfig = ElementsConfig()
    llm: LLMSettings = LLMSettings()

    @model_validator(mode="after")
    def _backends_have_their_settings(self) -> BuildConfig:
        if self.backends.images == "pool" and self.images.pool is None:
            raise ValueError("backends.images = 'pool' needs an [images.pool] section")
        if self.images.pool and self.images.pool.image_first and self.backends.images != "pool":
            raise ValueError("images.pool.image_first needs backends.images = 'pool'")
        return self


def apply_override(data: dict, assignment: str, created: dict[str, str] | None = None) -> None:
    """One `--set` (section.key=value) written into a build config's `data` (pipeline.config_overrides)."""
    config_overrides.apply_override(BuildConfig, data, assignment, created)


def load_config(path: Path | None = None, overrides: list[str] = ()) -> BuildConfig:
    data = read_toml(path) if path is not None else {}
    created: dict[str, str] = {}
    for assignment in overrides:
        apply_override(data, assignment, created)
    overridden = frozenset(assignment.split("=", 1)[0].strip() for assignment in overrides)
    return validated(BuildConfig, data, path, overridden, created)
