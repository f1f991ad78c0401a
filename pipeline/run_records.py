"""What a run records about how it was made, and how a resume compares with it: the config (what it
makes, not how it runs: `HOW_NOT_WHAT`), the elements its plan chose, and the prompt files and taxonomy
its backends read. `RunDir` (`pipeline/rundir.py`) writes and checks them.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from pydantic import BaseModel

from pipeline.config import LLM_ROLES, BuildConfig
from pipeline.hashing import sha256_file
from pipeline.messages import first_few
from pipeline.prompts import prompt_path


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


def config_changes(stored: dict, wanted: dict, run_id: str) -> list[str]:
    """`key: old -> new` for each setting that would change what the run makes. A key the stored config
    lacks came with a newer leakless: left at its default it is no change, since a new key's default
    does what leakless did before the key existed (and a new stage runs on resume for every batch).
    Where run `run_id` is is no change either (`_wherever_it_is`)."""
    old, new = _flat(_wherever_it_is(stored, run_id)), _flat(_wherever_it_is(wanted, run_id))
    defaults = _flat(BuildConfig().model_dump(mode="json"))
    return [f"{key}: {_shown(old.get(key))} -> {_shown(new.get(key))}" for key in sorted(old.keys() | new.keys())
            if old.get(key) != new.get(key) and _what_it_makes(key)
            and (key in old or key not in defaults or new.get(key) != defaults[key])]


def _wherever_it_is(config: dict, run_id: str) -> dict:
    """`config` (as JSON) without where its run lies: a run folder moved or copied to another runs folder
    (a shared disk mounted at another path, a copy on a laptop) resumes there. Its records name what is
    in it by paths within it (a checkpoint's `images/<seed>.png`), but an extend run's elements file lies
    in its own folder (`extend.prepare_run`): that one is compared by its name in the run. Which elements
    it holds is elements.json's to check."""
    if "run" not in config:
        return config
    run = {key: value for key, value in config["run"].items() if key != "runs_dir"}
    elements_file = Path(run.get("elements_file") or "")
    if elements_file.parent.name == run_id:
        run["elements_file"] = f"<run {run_id}>/{elements_file.name}"
    return {**config, "run": run}


def _shown(value) -> str:
    # None is a setting left to its default (leak_filter.threshold: the detector's own), not a value
    return "unset (the default)" if value is None else repr(value)


def element_changes(recorded: dict, now: dict) -> str | None:
    """What differs between two element choices (`plan.choose_elements`), or None when the same
    elements would be built in the same order."""
    if recorded["digest"] == now["digest"]:
        return None
    before, after = ({(element["sub_category"], element["element"]) for element in record["elements"]}
                     for record in (recorded, now))
    changes = [f"{len(names)} {word}: {first_few(repr(name) for _, name in sorted(names))}"
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
    """The sha256 of each prompt file the build reads, of the taxonomy, the lexicons and the element
    library, by their checkout paths: they decide what the run makes as much as its config does."""
    from pipeline import lexicon, taxonomy  # their files are looked up when asked: a test may point them elsewhere
    from pipeline.detect import lexicon as risk_lexicon

    files = {f"prompts/{name}": prompt_path(name) for name in build_prompt_files(config)}
    files["pipeline/taxonomy/taxonomy.toml"] = taxonomy.TAXONOMY_FILE
    # the rules rewriter's paraphrases and the rules harm check's harm words
    files["pipeline/lexicon/harm_words.toml"] = lexicon.LEXICON_FILE
    # the leak detector's risk lexicon, read by every build: its weights move each leak score
    files["pipeline/detect/cues.toml"] = risk_lexicon.CUES_FILE
    # the bundled element library, whose terms the leak detector matches (in detector.version) whatever
    # run.elements_file says; elements.json covers only the lines the plan chose
    files["pipeline/taxonomy/elements.jsonl"] = taxonomy.ELEMENTS_FILE
    return {name: sha256_file(path) for name, path in files.items()} | embedder_record()


def embedder_record() -> dict[str, str]:
    """The embedder's arithmetic (`LEAKLESS_EMBED_PRECISION`) where it is not the default float32: every
    leak score and intent cosine is made in it, so it decides what the run makes as the files do. Kept
    only then, so a float32 run's prompts.json reads as it did before the record, and a run that has
    none was made in float32 (or before the record: one made in bfloat16 then is taken for float32)."""
    from pipeline.backends.minilm import DEFAULT_PRECISION, PRECISION_ENV, configured_precision

    precision = configured_precision()
    return {} if precision == DEFAULT_PRECISION else {PRECISION_ENV: precision}


def precision_change(recorded: dict[str, str], now: dict[str, str]) -> tuple[str, str] | None:
    """(the run's precision, this build's) where they differ, else None (`embedder_record`)."""
    from pipeline.backends.minilm import DEFAULT_PRECISION, PRECISION_ENV

    old, new = (record.get(PRECISION_ENV, DEFAULT_PRECISION) for record in (recorded, now))
    return None if old == new else (old, new)


def precision_refusal(run_id: str, recorded: dict[str, str], now: dict[str, str]) -> str | None:
    """Why a resume of run `run_id` in another embedder precision is refused, or None."""
    from pipeline.backends.minilm import PRECISION_ENV

    if not (precision := precision_change(recorded, now)):
        return None
    old, new = precision
    return (f"run {run_id} was embedded in {old} and this build would embed in {new} ({PRECISION_ENV}), "
            f"which would mix both precisions' scores in one run; set {PRECISION_ENV}={old} to resume it, "
            f"or use a new --run-id to build in {new}")


def prompt_changes(recorded: dict[str, str], now: dict[str, str]) -> list[str]:
    """`file (sha256 old -> new)` for each recorded file that reads otherwise now, and the embedder's
    precision where it changed. A file a newer leakless reads that the run did not record is no change,
    as a new config key is not."""
    from pipeline.backends.minilm import PRECISION_ENV

    changed = [f"{name} (sha256 {old[:12]} -> {now[name][:12]})" for name, old in recorded.items()
               if name != PRECISION_ENV and name in now and now[name] != old]
    if precision := precision_change(recorded, now):
        changed.append(f"{PRECISION_ENV} ({precision[0]} -> {precision[1]})")
    return changed


# Where a file git does not track still runs as leakless code or data (a new module, a new prompt file):
# one there makes the checkout differ from its commit; elsewhere (notes, scratch data) it does not.
CODE_FOLDERS = ("pipeline", "flows", "prompts")
CHANGES_DIGEST_LENGTH = 16  # hex digits: enough to tell two builds' code apart, short enough to show


def code_version(checkout: Path = Path(__file__).resolve().parent.parent) -> dict | None:
    """The git commit of the leakless checkout that is running and whether its files differ from it
    (`packages.leakless` stays 0.1.0 across code changes): tracked files changed, or files git does not
    track under `CODE_FOLDERS`. Where they differ, `changes_digest` tells two such builds apart; a clean
    checkout's record has no such key. None when leakless is not run from a checkout (an installed
    wheel) or git cannot tell; never an error."""
    if not (checkout / ".git").exists():  # a git above an installed package would be another project's
        return None
    try:
        commit = _git(checkout, "rev-parse", "HEAD")
        changed = _git(checkout, "status", "--porcelain", "--untracked-files=no")
        untracked = sorted(name for name in _git_bytes(checkout, "ls-files", "--others", "--exclude-standard", "-z",
                                                       "--", *CODE_FOLDERS).split(b"\0") if name)
        if not (changed or untracked):
            return {"commit": commit, "uncommitted_changes": False}
        return {"commit": commit, "uncommitted_changes": True, "changes_digest": changes_digest(checkout, untracked)}
    except (OSError, subprocess.SubprocessError, UnicodeDecodeError):  # no git, not a repository, a slow disk
        return None


def changes_digest(checkout: Path, untracked: list[bytes]) -> str:
    """The first `CHANGES_DIGEST_LENGTH` hex digits of the sha256 of `git diff HEAD` (binary files and
    full blob ids included, in git's own format whatever the user's diff settings) and of each untracked
    file's name and contents: the same for two checkouts of one commit with the same edits, whoever built."""
    digest = hashlib.sha256(_git_bytes(checkout, "diff", "HEAD", "--binary", "--full-index", "--no-ext-diff",
                                       "--no-textconv", "--no-color", "--no-renames", "--src-prefix=a/",
                                       "--dst-prefix=b/"))
    for name in untracked:
        try:
            content = sha256_file(checkout / os.fsdecode(name))
        except OSError:  # a broken link, a file removed meanwhile: its name still counts
            content = "unreadable"
        digest.update(b"\0" + name + b"\0" + content.encode())
    return digest.hexdigest()[:CHANGES_DIGEST_LENGTH]


def _git(checkout: Path, *args: str) -> str:
    # errors="replace": a tracked file name that is not UTF-8 must not fail a finished build
    return _git_bytes(checkout, *args).decode("utf-8", errors="replace").strip()


def _git_bytes(checkout: Path, *args: str) -> bytes:
    # safe.directory: a lab member's build from a checkout another user owns, which git otherwise refuses
    # ("dubious ownership"); its check keeps a stranger's repository config from running commands, and
    # this one's code runs anyway. Only reading calls come here.
    # GIT_OPTIONAL_LOCKS=0: `status` then never takes the index lock that a commit running beside it needs
    return subprocess.run(["git", "-c", f"safe.directory={checkout}", "-C", str(checkout), *args],
                          capture_output=True, check=True, timeout=10,
                          env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}).stdout
