"""A run's folder: its resolved config, per-batch stage checkpoints, images and outputs.

A finished stage of a batch is saved as JSON (written atomically), so a rerun
with the same run id loads it instead of recomputing: killed runs resume.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path

from pipeline.batch import Batch
from pipeline.config import BuildConfig, ConfigError
from pipeline.contracts import StageName
from pipeline import run_pool
from pipeline.records import Seed, content_id
from pipeline.run_records import (code_version, config_changes, element_changes, precision_refusal, prompt_changes,
                                  prompt_record)
from pipeline.storage import atomic_write_json, atomic_write_text, remove_leftovers

# The leak scores' model label, with the precision where it is not float32 ("all-MiniLM-L6-v2@bfloat16+lexicon").
_DETECTOR_LABEL = re.compile(r"all-MiniLM-L6-v2(@\w+)?\+lexicon")


def _new_build_token() -> str:
    """Which build a `RunDir` serves (a new one per handle, and per `claim`): it travels with the handle to
    every process that computes the build's stages (Dask workers too), where each build of the run keeps
    its own record of the LLM calls sent (`pipeline.build.llm_calls_recorded`)."""
    return uuid.uuid4().hex[:12]


def new_run_id(config: BuildConfig) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{config_hash(config)[:6]}"


def config_hash(config: BuildConfig) -> str:
    return content_id(config.model_dump(mode="json"))


class RunDir:
    def __init__(self, runs_dir: Path, run_id: str):
        if not run_id or "/" in run_id or run_id.startswith("."):
            raise ConfigError(f"invalid run id {run_id!r}")
        self.run_id = run_id
        self.path = Path(runs_dir).resolve() / run_id
        self.build_token = _new_build_token()

    @property
    def elements_record(self) -> Path:
        """Which elements the run's plan chose (`plan.choose_elements`); runs made before this
        record have none, and resume unchecked."""
        return self.path / "elements.json"

    @property
    def prompts_record(self) -> Path:
        """The sha256 of the prompt files and the taxonomy the run was made with, and the embedder's
        precision where it was not float32 (`prompt_record`); runs made before this record have none,
        and resume unchecked."""
        return self.path / "prompts.json"

    @property
    def code_record(self) -> Path:
        """The leakless code versions (`code_version`) that built the run, oldest first: a run resumed
        after a `git pull` has batches made by each. Runs made before this record have none."""
        return self.path / "code.json"

    def recorded_code(self) -> list[dict | None]:
        if not self.code_record.is_file():
            return []
        return json.loads(self.code_record.read_text(encoding="utf-8"))

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
        return None if stored is None else config_changes(stored, config.model_dump(mode="json"), self.run_id)

    def made_with(self, config: BuildConfig) -> bool:
        """Whether the run exists and makes what `config` makes: a resume `check` lets through
        (prompt files and elements aside)."""
        return self.changes_to_make(config) == []

    def recorded_prompts(self) -> dict[str, str] | None:
        if not self.prompts_record.exists():
            return None
        from pipeline.backends.minilm import PRECISION_ENV

        recorded = json.loads(self.prompts_record.read_text(encoding="utf-8"))
        return recorded if PRECISION_ENV in recorded else recorded | self._precision_of_scores()

    def _precision_of_scores(self) -> dict[str, str]:
        """A run made before prompts.json recorded the embedder's precision names bfloat16 only in its leak
        scores' model label (`all-MiniLM-L6-v2@bfloat16+lexicon`): read from the first checkpoint holding a
        score, as every batch of a run is scored in one precision (a batch whose seeds were all blocked holds
        none). None anywhere (float32, or no pair scored yet) is float32."""
        from pipeline.backends.minilm import PRECISION_ENV

        for stage in (StageName.rewrite, StageName.leak_filter):
            for checkpoint in sorted(self.path.glob(f"batches/*/{stage.value}.json")):
                if label := _DETECTOR_LABEL.search(checkpoint.read_text(encoding="utf-8", errors="replace")):
                    return {PRECISION_ENV: "bfloat16"} if label.group(1) == "@bfloat16" else {}
        return {}

    def unrecorded_prompts_note(self) -> str | None:
        """What a resume of a run made before runs recorded their prompt files cannot check, or None."""
        if not self.config_record.exists() or self.prompts_record.exists():
            return None
        return (f"run {self.run_id} was made before runs recorded their prompt files: an edit to prompts/ or "
                "the taxonomy since then cannot be seen (its rows would mix both versions); this resume "
                "records the current ones, and later resumes are checked against them")

    def check(self, config: BuildConfig) -> None:
        """Refuse to resume a run that was made with another config, other prompt files or another
        embedder precision, or whose plan would now choose other elements (reads only). Settings of
        how it runs (`HOW_NOT_WHAT`) may change; config.json keeps the first run's."""
        changes = self.changes_to_make(config)
        if changes is None:
            return
        if changes:
            shown = "; ".join(changes[:3]) + (f"; and {len(changes) - 3} more" if len(changes) > 3 else "")
            raise ConfigError(f"run {self.run_id} exists with a different config ({shown}); "
                              "use a new --run-id to build with this one")
        recorded = self.recorded_prompts()
        if recorded is not None:
            now = prompt_record(config)
            if refusal := precision_refusal(self.run_id, recorded, now):
                raise ConfigError(refusal)
            edited = prompt_changes(recorded, now)
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
        changed, or None (`run_pool.pool_changes_note`)."""
        return run_pool.pool_changes_note(self, seeds)

    @property
    def pool_assignments(self) -> Path:
        """The pool retriever's item -> file record (`make_image_generator` in pipeline/factory.py)."""
        return self.path / "pool-assignments.json"

    def claim(self, config: BuildConfig, seeds: list[Seed] = ()) -> None:
        """Create the folder, or check that an existing run used the same config, prompt files and
        elements; record the image-first seeds among `seeds` (the plan this build runs), and have the
        batches whose retrieved pool images changed made again (`stale_retrievals`)."""
        self.check(config)
        self.build_token = _new_build_token()
        remove_leftovers(self.path.rglob(".*.tmp"))  # of a run killed mid-write; a live writer's stay
        run_pool.redo_stale_retrievals(self)  # a resume's: a new run has no checkpoint
        if not self.config_record.exists():
            from pipeline.plan import choose_elements

            # before config.json: a run killed between the two is a new run again, never an unchecked one
            atomic_write_json(self.elements_record, choose_elements(config).record)
            atomic_write_json(self.prompts_record, prompt_record(config))
            atomic_write_json(self.config_record, config.model_dump(mode="json"))
        elif not self.prompts_record.exists():  # a run made before the record: checked from now on
            atomic_write_json(self.prompts_record, prompt_record(config))
        run_pool.record_pool_seeds(self, seeds)
        self._record_code(code_version())

    def _record_code(self, code: dict | None) -> None:
        versions = self.recorded_code()
        if not versions or versions[-1] != code:
            atomic_write_json(self.code_record, [*versions, code])

    @property
    def manifest(self) -> Path:
        """Written last by a build: a run is finished exactly when it has one."""
        return self.path / "manifest.json"

    def manifest_stamp(self) -> tuple[int, int] | None:
        """When and how the manifest was last written; None while the run is unfinished. A rerun of a
        finished run keeps the old manifest until it finishes again, so a changed stamp tells them apart."""
        try:
            stat = self.manifest.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_ino

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

