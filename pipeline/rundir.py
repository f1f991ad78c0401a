"""A run's folder: its resolved config, per-batch stage checkpoints, images and outputs.

A finished stage of a batch is saved as JSON (written atomically), so a rerun
with the same run id loads it instead of recomputing: killed runs resume.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel

from pipeline.batch import Batch
from pipeline.config import LLM_ROLES, BuildConfig, ConfigError
from pipeline.hashing import sha256_file
from pipeline.prompts import prompt_path
from pipeline.records import Seed, content_id
from pipeline.storage import atomic_write_json, atomic_write_text


def new_run_id(config: BuildConfig) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{config_hash(config)[:6]}"


# How a run is carried out, not what it makes: a resume may change these (fewer workers, a
# smaller image batch or offloading after running out of GPU memory, a slower rate limit).
# Not the devices: with dtype "auto" the device decides the precision, and so the images.
HOW_NOT_WHAT = ("runner", "llm.client_process", "images.diffusers.batch_size", "images.diffusers.cpu_offload", *(
                    f"llm.endpoints.*.{key}" for key in ("max_in_flight", "requests_per_minute", "tokens_per_minute",
                                                         "timeout_s", "max_retries", "backoff_s")))


def _flat(settings: dict, prefix: str = "") -> dict[str, object]:
    flat = {}
    for key, value in settings.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _what_it_makes(key: str) -> bool:
    parts = key.split(".")
    return not any(all(want in ("*", got) for want, got in zip(rule.split("."), parts)) and
                   len(parts) >= len(rule.split(".")) for rule in HOW_NOT_WHAT)


def with_how_at_defaults(model: BaseModel, prefix: str = "") -> BaseModel:
    """A copy with every `HOW_NOT_WHAT` setting at its default: what the run makes, for a run id
    that a resume with fewer workers or a slower rate limit keeps. A config that leaves them at
    their defaults is unchanged, so its id is the one it always had."""
    update = {}
    for name, field in type(model).model_fields.items():
        key, value = f"{prefix}{name}", getattr(model, name)
        if not _what_it_makes(key):
            update[name] = field.get_default(call_default_factory=True)
        elif isinstance(value, BaseModel):
            update[name] = with_how_at_defaults(value, f"{key}.")
        elif isinstance(value, dict) and any(isinstance(item, BaseModel) for item in value.values()):
            update[name] = {k: with_how_at_defaults(item, f"{key}.{k}.") for k, item in value.items()}
    return model.model_copy(update=update)


def config_changes(stored: dict, wanted: dict) -> list[str]:
    """`key: old -> new` for each setting that would change what the run makes. A key the stored config
    lacks came with a newer leakless: left at its default it is no change, since a new key's default
    does what leakless did before the key existed (and a new stage runs on resume for every batch)."""
    old, new = _flat(stored), _flat(wanted)
    defaults = _flat(BuildConfig().model_dump(mode="json"))
    return [f"{key}: {_shown(old.get(key))} -> {_shown(new.get(key))}" for key in sorted(old.keys() | new.keys())
            if old.get(key) != new.get(key) and _what_it_makes(key)
            and (key in old or key not in defaults or new.get(key) != defaults[key])]


def _shown(value) -> str:
    # None is a setting left to its default (leak_filter.threshold: the detector's own), not a value
    return "unset (the default)" if value is None else repr(value)


def _pool_seeds(seeds: list[Seed]) -> dict[str, str]:
    return {seed.id: Path(seed.image_path).name for seed in seeds if seed.image_path}


def _files(file_of: dict[str, str], seed_ids: list[str]) -> str:
    shown = ", ".join(file_of[seed_id] for seed_id in seed_ids[:3])
    return f" ({shown}{', ...' if len(seed_ids) > 3 else ''})" if seed_ids else ""


def element_changes(recorded: dict, now: dict) -> str | None:
    """What differs between two element choices (`plan.choose_elements`), or None when the same
    elements would be built in the same order."""
    if recorded["digest"] == now["digest"]:
        return None
    before, after = ({(element["sub_category"], element["element"]) for element in record["elements"]}
                     for record in (recorded, now))
    changes = [f"{len(names)} {word}: {_some(names)}"
               for word, names in (("more", after - before), ("fewer", before - after)) if names]
    if not changes:
        changes = ["the same names with other descriptions, terms or order"]
    old_file, new_file = recorded["library"], now["library"]
    if old_file["sha256"] != new_file["sha256"]:
        changes.append(f"{new_file['file']} changed (sha256 {old_file['sha256'][:12]} -> {new_file['sha256'][:12]})")
    old_store, new_store = (record["store"]["versions"] if record["store"] else [] for record in (recorded, now))
    if old_store != new_store:
        changes.append(f"the element store held {_versions(old_store)}, now {_versions(new_store)}")
    return "; ".join(changes)


def _some(named: set[tuple[str, str]]) -> str:
    shown = ", ".join(repr(name) for _, name in sorted(named)[:3])
    return shown + (f" and {len(named) - 3} more" if len(named) > 3 else "")


def _versions(names: list[str]) -> str:
    if not names:
        return "no version"
    return names[0] if len(names) == 1 else f"{names[0]}..{names[-1]} ({len(names)} versions)"


# The prompt files each offline [backends] choice reads; an "llm" one reads its roles' `<role>.j2`.
OFFLINE_PROMPT_FILES = {("seed_writer", "templates"): "offline/seed_queries.toml",
                        ("rewriter", "rules"): "offline/references.toml"}


def build_roles(config: BuildConfig) -> list[str]:
    """The LLM roles a build with this config calls (the element writer grows elements before one,
    and a pool's image-first seeds need the image query writer)."""
    roles = [role for backend, names in LLM_ROLES.items()
             if backend != "element_writer" and getattr(config.backends, backend) == "llm" for role in names]
    pool = config.images.pool
    if "seed_writer" in roles and pool is not None and pool.image_first:
        roles.append("image_query_writer")
    return roles


def build_prompt_files(config: BuildConfig) -> list[str]:
    """The files under prompts/ that a build with this config reads."""
    offline = [name for (backend, value), name in OFFLINE_PROMPT_FILES.items()
               if getattr(config.backends, backend) == value]
    return offline + [f"{role}.j2" for role in build_roles(config)]


def prompt_record(config: BuildConfig) -> dict[str, str]:
    """The sha256 of each prompt file the build reads and of the taxonomy, by their checkout paths:
    they decide what the run makes as much as its config does."""
    from pipeline import taxonomy  # its file is looked up when asked: a test may point it elsewhere

    files = {f"prompts/{name}": prompt_path(name) for name in build_prompt_files(config)}
    files["pipeline/taxonomy/taxonomy.toml"] = taxonomy.TAXONOMY_FILE
    return {name: sha256_file(path) for name, path in files.items()}


def prompt_changes(recorded: dict[str, str], now: dict[str, str]) -> list[str]:
    """`file (sha256 old -> new)` for each recorded file that reads otherwise now. A file a newer
    leakless reads that the run did not record is no change, as a new config key is not."""
    return [f"{name} (sha256 {old[:12]} -> {now[name][:12]})"
            for name, old in recorded.items() if name in now and now[name] != old]


def config_hash(config: BuildConfig) -> str:
    return content_id(config.model_dump(mode="json"))


class RunDir:
    def __init__(self, runs_dir: Path, run_id: str):
        if not run_id or "/" in run_id or run_id.startswith("."):
            raise ConfigError(f"invalid run id {run_id!r}")
        self.run_id = run_id
        self.path = Path(runs_dir).resolve() / run_id

    @property
    def elements_record(self) -> Path:
        """Which elements the run's plan chose (`plan.choose_elements`); runs made before this
        record have none, and resume unchecked."""
        return self.path / "elements.json"

    @property
    def prompts_record(self) -> Path:
        """The sha256 of the prompt files and the taxonomy the run was made with (`prompt_record`);
        runs made before this record have none, and resume unchecked."""
        return self.path / "prompts.json"

    @property
    def config_record(self) -> Path:
        """The config the run was made with (`--set` overrides in), written once when it is claimed:
        a run exists exactly when it has one."""
        return self.path / "config.json"

    def stored_config(self) -> dict | None:
        """The config the run was made with, as JSON; None for no run yet."""
        if not self.config_record.exists():
            return None
        return json.loads(self.config_record.read_text(encoding="utf-8"))

    def changes_to_make(self, config: BuildConfig) -> list[str] | None:
        """`config_changes` from the config the run was made with to `config`; None for no run yet."""
        stored = self.stored_config()
        return None if stored is None else config_changes(stored, config.model_dump(mode="json"))

    def made_with(self, config: BuildConfig) -> bool:
        """Whether the run exists and makes what `config` makes: a resume `check` lets through
        (prompt files and elements aside)."""
        return self.changes_to_make(config) == []

    def recorded_prompts(self) -> dict[str, str] | None:
        if not self.prompts_record.exists():
            return None
        return json.loads(self.prompts_record.read_text(encoding="utf-8"))

    def unrecorded_prompts_note(self) -> str | None:
        """What a resume of a run made before runs recorded their prompt files cannot check, or None."""
        if not self.config_record.exists() or self.prompts_record.exists():
            return None
        return (f"run {self.run_id} was made before runs recorded their prompt files: an edit to prompts/ or "
                "the taxonomy since then cannot be seen (its rows would mix both versions); this resume "
                "records the current ones, and later resumes are checked against them")

    def check(self, config: BuildConfig) -> None:
        """Refuse to resume a run that was made with another config or other prompt files, or whose
        plan would now choose other elements (reads only). Settings of how it runs (`HOW_NOT_WHAT`)
        may change; config.json keeps the first run's."""
        changes = self.changes_to_make(config)
        if changes is None:
            return
        if changes:
            shown = "; ".join(changes[:3]) + (f"; and {len(changes) - 3} more" if len(changes) > 3 else "")
            raise ConfigError(f"run {self.run_id} exists with a different config ({shown}); "
                              "use a new --run-id to build with this one")
        recorded = self.recorded_prompts()
        if recorded is not None:
            edited = prompt_changes(recorded, prompt_record(config))
            if edited:
                raise ConfigError(f"run {self.run_id} was made with other versions of {'; '.join(edited)}; "
                                  "use a new --run-id to build with these")
        if self.elements_record.exists():
            from pipeline.plan import choose_elements  # reads the library and the store: only when resuming

            change = element_changes(json.loads(self.elements_record.read_text(encoding="utf-8")),
                                     choose_elements(config).record)
            if change:
                raise ConfigError(f"run {self.run_id} was planned with other elements ({change}); use a new "
                                  "--run-id to build with these, or `leakless extend` to build only the "
                                  "elements no run has used (docs/elements.md)")

    @property
    def pool_seeds_record(self) -> Path:
        """The image-first seeds (id: pool file) the run last planned: a pool changed since then plans
        other ones, which a resume names (`pool_changes_note`)."""
        return self.path / "pool_seeds.json"

    def pool_changes_note(self, seeds: list[Seed]) -> str | None:
        """What a resume with `seeds` builds otherwise than the run last did because the image pool
        changed (docs/images.md: new pixels or an edited caption make a new seed), or None."""
        if not self.pool_seeds_record.exists():
            return None
        before = json.loads(self.pool_seeds_record.read_text(encoding="utf-8"))
        now = _pool_seeds(seeds)
        gone, new = sorted(before.keys() - now.keys()), sorted(now.keys() - before.keys())
        if not gone and not new:
            return None
        return (f"the image pool changed since run {self.run_id} last ran: {len(gone)} image-first seed(s) no "
                f"longer planned{_files(before, gone)}, {len(new)} new{_files(now, new)}; the batches holding them "
                "are made again, and the pairs of seeds no longer planned leave the run with their review")

    def claim(self, config: BuildConfig, seeds: list[Seed] = ()) -> None:
        """Create the folder, or check that an existing run used the same config, prompt files and
        elements; record the image-first seeds among `seeds` (the plan this build runs)."""
        self.check(config)
        for leftover in self.path.rglob(".*.tmp"):  # from a run killed mid-write
            leftover.unlink()
        if not self.config_record.exists():
            from pipeline.plan import choose_elements

            # before config.json: a run killed between the two is a new run again, never an unchecked one
            atomic_write_json(self.elements_record, choose_elements(config).record)
            atomic_write_json(self.prompts_record, prompt_record(config))
            atomic_write_json(self.config_record, config.model_dump(mode="json"))
        elif not self.prompts_record.exists():  # a run made before the record: checked from now on
            atomic_write_json(self.prompts_record, prompt_record(config))
        if any(seed.image_path for seed in seeds):
            atomic_write_json(self.pool_seeds_record, _pool_seeds(seeds))

    @property
    def manifest(self) -> Path:
        """Written last by a build: a run is finished exactly when it has one."""
        return self.path / "manifest.json"

    def checkpoint(self, stage: str, batch_id: str) -> Path:
        return self.path / "batches" / batch_id / f"{stage}.json"

    def load(self, stage: str, batch_id: str) -> Batch | None:
        path = self.checkpoint(stage, batch_id)
        if not path.exists():
            return None
        return Batch.model_validate_json(path.read_text(encoding="utf-8"))

    def discard(self, stages: list[str], batch_id: str) -> None:
        """Forget these stages' checkpoints of a batch, so they are computed again."""
        for stage in stages:
            self.checkpoint(stage, batch_id).unlink(missing_ok=True)

    def save(self, stage: str, batch_id: str, batch: Batch) -> None:
        atomic_write_text(self.checkpoint(stage, batch_id), batch.model_dump_json())


def unfinished_runs(config: BuildConfig) -> list[RunDir]:
    """The runs under run.runs_dir that were made with what `config` makes and have not finished:
    the ones a build with `config` could resume."""
    runs_dir = Path(config.run.runs_dir)
    if not runs_dir.is_dir():
        return []
    runs = (RunDir(runs_dir, folder.name) for folder in sorted(runs_dir.iterdir())
            if not folder.name.startswith(".") and folder.is_dir())
    return [run for run in runs if not run.manifest.exists() and run.made_with(config)]
