"""What one build does, as plain functions the Prefect flow wires together."""

from __future__ import annotations

import gc
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import pandas as pd

from pipeline.batch import Batch
from pipeline.build_thresholds import summary_line
from pipeline.config import BuildConfig
from pipeline.contracts import StageName
from pipeline.factory import STAGE_ORDER, build_stages, config_key, llm_client, uses_llm
from pipeline.ledger import ledger_for
from pipeline.llm.accounting import Accounting, added_up
from pipeline.llm.recording import SpendingRecord
from pipeline.plan import chosen_sub_categories, pool_skipped
from pipeline.records import Blocked, Failure, LedgerEntry, Seed
from pipeline.run_records import build_prompt_files, code_version
from pipeline.rundir import RunDir
from pipeline.storage import atomic_write_json, atomic_write_text
from pipeline.summary import Summary, drafted_pairs, reason_counts, retriable_failed_seeds, summarise
from pipeline.taxonomy import load_taxonomy
from pipeline.writers.shards import write_manifest, write_shards
from pipeline.writers.tables import decisions_frame, records_frame, write_decisions, write_frame


@contextmanager
def fewer_collections(young_threshold: int = 50_000) -> Iterator[None]:
    """A build keeps tens of thousands of records alive, and CPython's full collections scan
    them all again and again, stopping every thread: 4.8 s of a 48 s LLM build, up to 0.8 s
    at a time, with no request sent meanwhile (`benchmarks/build_llm.py`). What is alive when
    the build starts (models, libraries) is frozen out of the collector's sight, and young
    collections (which lead to full ones) run every 50,000 allocations instead of 700."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(young_threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def run_stage(stage: str, batch: Batch, config_key: str, run: RunDir) -> Batch:
    """One stage over one batch; a checkpoint from an earlier attempt of this run is reused,
    unless the stage lost items to a server that was down or kept failing: those are tried
    again (what was answered comes back from the LLM cache), or holds images made from other files
    of the model folder than it holds now (`ImageStage.outdated`): those are made again.
    Whenever a stage is computed, the batch's later checkpoints are discarded first, so they are redone from its output. `config_key` is `pipeline.factory.config_key(config)`,
    computed once per run."""
    order = [name.value for name in STAGE_ORDER]
    done = run.load(stage, batch.id)
    if done is not None and any(failure.transient and failure.stage == stage for failure in done.failures):
        done = None
    if done is not None and stage == StageName.images and build_stages(config_key, run.path)[stage].outdated(done):
        done = None  # new weights copied over the model folder since: its images are made again with them
    if done is None:
        # What later stages made from this stage's earlier output (or from a run folder written before
        # this stage existed, which resumes while the stage's new settings are at their defaults:
        # `run_records.config_changes`) no longer follows: last first, so a kill midway keeps the rule.
        run.discard(order[order.index(stage):][::-1], batch.id)
        with llm_calls_recorded(config_key, run):
            done = build_stages(config_key, run.path)[stage](batch)
        run.save(stage, batch.id, done)
    return done


LLM_CALLS = "llm_calls"  # the run's folder of what each build process sent: one JSON file per process
# (process id, run folder) -> the build (`RunDir.build_token`) this process last computed a stage of the run
# for, and its record of what the client spent on that build (its file, and the client's counts when it
# began): a process's client lives on across runs, and a build stopped before `finalize` (Ctrl-C in a
# notebook) or computed by an external Dask cluster's workers never drops its record, so each build starts
# its own rather than counting what every other run sent since an earlier build began
_began: dict[tuple[int, str], tuple[str, SpendingRecord]] = {}
_began_lock = threading.Lock()


@lru_cache(maxsize=4)
def _llm_accounting(config_key: str):
    config = BuildConfig.model_validate_json(config_key)
    return llm_client(config).accounting if uses_llm(config) else None


@contextmanager
def llm_calls_recorded(config_key: str, run: RunDir) -> Iterator[None]:
    """Around a stage computed: what this process's LLM client spent on the run so far is kept in its
    file in `LLM_CALLS`, rewritten while the stage works and as it ends (failed or stopped stages too,
    `pipeline.llm.recording`), which every later process of the run keeps, so the summary adds up a
    resumed or retried run's calls as the stage seconds are."""
    accounting = _llm_accounting(config_key)
    if accounting is None:
        yield
        return
    with record_of_build(run, accounting).kept_during():
        yield


def record_of_build(run: RunDir, accounting: Accounting) -> SpendingRecord:
    """This process's record for the build `run` belongs to: one file per process per build, however
    many of its stages the process computes, begun at the client's counts of the build's first one."""
    key = (os.getpid(), str(run.path))
    with _began_lock:
        token, record = _began.get(key, (None, None))
        if record is None or token != run.build_token:
            record = SpendingRecord(run.path / LLM_CALLS / f"{key[0]}-{uuid.uuid4().hex[:12]}.json", accounting)
            _began[key] = (run.build_token, record)
        return record


def llm_calls_of_run(run: RunDir, since: float) -> tuple[dict[str, dict], int, bool]:
    """The run's LLM calls added up over every process that sent any, how many did, and whether this build
    (begun at `since`, epoch seconds) did: by the files' times, as its stages may have run in other
    processes (Dask workers). The next build of the run in this process records anew."""
    with _began_lock:
        _began.pop((os.getpid(), str(run.path)), None)
    files = sorted((run.path / LLM_CALLS).glob("*.json"))
    spent = [json.loads(path.read_text(encoding="utf-8")) for path in files]
    return added_up(spent), len(files), any(path.stat().st_mtime >= since for path in files)


def pair_rows(batch: Batch, run: RunDir) -> list[dict]:
    drafts = {draft.seed_id: draft for draft in batch.drafts}
    rows = []
    for pair in batch.pairs:
        image_path = run.path / pair.image_ref
        draft = drafts[pair.seed_id]
        rows.append({
            "id": pair.id, "seed_id": pair.seed_id, "instruction": pair.final_query,
            "original_query": pair.original_query,
            "image": {"bytes": image_path.read_bytes(), "path": pair.image_ref},
            "image_description": pair.image_description, "category": pair.category,
            "sub_category": pair.sub_category, "element": pair.element, "source": pair.source,
            "safety_reason": pair.safety_reason, "leak_score": pair.leak.score if pair.leak else None,
            "seed_backend": draft.made_by.backend, "seed_model": draft.made_by.model,
            "seed_prompt_hash": draft.made_by.prompt_hash,
            "rewrite_backend": pair.rewritten_by.backend if pair.rewritten_by else None,
            "rewrite_model": pair.rewritten_by.model if pair.rewritten_by else None,
            "rewrite_prompt_hash": pair.rewritten_by.prompt_hash if pair.rewritten_by else None,
            "image_backend": pair.image_by.backend if pair.image_by else None,
            "image_model": pair.image_by.model if pair.image_by else None,
            "run_id": run.run_id,
        })
    return rows


def finalize(batches: list[Batch], config: BuildConfig, run: RunDir,
             wall_seconds: float) -> tuple[list[LedgerEntry], Summary]:
    """Ledger, audit tables, shards, summary and, last, the manifest; returns the ledger and the
    summary."""
    # Rewriting a finished run's outputs unfinishes it first: a kill midway then leaves a run the next
    # build or extend resumes, not a manifest over a ledger and shards that no longer match it.
    run.manifest.unlink(missing_ok=True)
    ledger = [entry for batch in batches for entry in ledger_for(batch)]
    decisions = [d for batch in batches for d in batch.decisions]
    write_decisions(decisions_frame(decisions, run.run_id), run.path / "decisions.parquet")
    write_frame(records_frame(ledger, LedgerEntry, run.run_id), run.path / "ledger.parquet")
    write_frame(records_frame([b for batch in batches for b in batch.blocked], Blocked, run.run_id),
                run.path / "blocked.parquet")
    failures = [f for batch in batches for f in batch.failures]
    write_frame(records_frame(failures, Failure, run.run_id), run.path / "failures.parquet")

    skipped_from_pool = pool_skipped(config) if config.images.pool is not None else []
    if config.images.pool is not None:
        atomic_write_json(run.path / "pool_skipped.json", skipped_from_pool)

    rows = [row for batch in batches for row in pair_rows(batch, run)]
    shards = write_shards(rows, run.path / "data", config.export.rows_per_shard)
    stage_seconds: dict[str, float] = {}
    for batch in batches:
        for stage, seconds in batch.seconds.items():
            stage_seconds[stage] = stage_seconds.get(stage, 0.0) + seconds
    summary = summarise(ledger, rows, stage_seconds, wall_seconds, run.run_id,
                        reason_counts=reason_counts(batches, drafted_pairs(run.path)), pool_skipped=len(skipped_from_pool),
                        llm_calls=llm_calls_of_run(run, time.time() - wall_seconds) if uses_llm(config) else None,
                        retriable_failed=retriable_failed_seeds(ledger, failures),
                        thresholds=summary_line(run.stored_config(), decisions),
                        without_seeds=sub_categories_without_seeds(config, ledger), backends=backends_line(config))
    atomic_write_text(run.path / "summary.md", summary.markdown)
    write_manifest(run.manifest, rows=rows, shards=shards,
                   config=config.model_dump(mode="json"),
                   extra={"run_id": run.run_id, "ledger": summary.state_counts,
                          "prompt_files": run.recorded_prompts(), **code_fields(run)})
    return ledger, summary


def sub_categories_without_seeds(config: BuildConfig, ledger: list[LedgerEntry]) -> list[tuple[str, str]]:
    """The (category, sub-category) pairs the run chose that no seed of the ledger came from."""
    seeded = {entry.sub_category for entry in ledger}
    return [(load_taxonomy().parent(sub), sub) for sub in chosen_sub_categories(config) if sub not in seeded]


# The [backends] a build's stages use: pair_checker is the release's, and the element writer grows elements apart.
NOT_THE_BUILDS = {"pair_checker", "element_writer"}


def backends_line(config: BuildConfig) -> str:
    """Each role's backend and the prompt files the build read: an offline role reads no `<role>.j2`, so
    an edit of one had no effect, and only the records said so."""
    used = ", ".join(f"{key} `{value}`" for key, value in config.backends.model_dump().items()
                     if key not in NOT_THE_BUILDS)
    read = build_prompt_files(config)
    unread = "" if any(name.endswith(".j2") for name in read) else " (no `prompts/*.j2`: no role used a language model)"
    return f"Backends: {used}. Prompt files read: {', '.join(f'`prompts/{name}`' for name in read) or 'none'}{unread}."


def code_fields(run: RunDir) -> dict:
    """The manifest's `code`: the commit that finished the run; and `earlier_code`, the commits that
    made some of its batches before a resume, where there were any (their pairs may differ from what
    the last commit makes)."""
    versions = run.recorded_code() or [code_version()]
    return {"code": versions[-1]} | ({"earlier_code": versions[:-1]} if len(versions) > 1 else {})


def finished_result(run: RunDir, config: BuildConfig, seeds: list[Seed]) -> dict | None:
    """The flow's result for a finished run that building again with `config` and `seeds` has nothing to
    do for, read from its files; None while the run is unfinished, holds an item that failed on a
    transient error (a rerun tries it again, `run_stage`), was made before runs recorded their prompt
    files, or would be planned with other pool images. Building such a run again makes the same pairs,
    and would only rewrite its manifest with this process's commit and its summary with its timings.
    A changed config is refused (`RunDir.check`), finished or not."""
    if not run.manifest.is_file():
        return None
    run.check(config)
    if run.unrecorded_prompts_note() or run.pool_changes_note(seeds):
        return None
    try:
        failures = pd.read_parquet(run.path / "failures.parquet")
        if "transient" in failures and failures["transient"].fillna(False).astype(bool).any():
            return None
        states = pd.read_parquet(run.path / "ledger.parquet", columns=["state"])["state"].value_counts()
        summary = (run.path / "summary.md").read_text(encoding="utf-8")
    except (OSError, ValueError):  # a record lost or damaged since: the build writes them again
        return None
    return {"run_id": run.run_id, "run_dir": str(run.path), "states": {str(k): int(v) for k, v in states.items()},
            "seeds": int(states.sum()), "retriable_failed": 0, "summary": summary}


def build_without_orchestration(config: BuildConfig, run_id: str) -> list[LedgerEntry]:
    """The same build as the flow, as a plain loop: the baseline that prices Prefect's share. A
    finished run is built again here (the flow returns its `finished_result`)."""
    import time

    from pipeline.batch import make_batches
    from pipeline.factory import STAGE_ORDER
    from pipeline.plan import plan_seeds

    started = time.perf_counter()
    run = RunDir(config.run.runs_dir, run_id)
    seeds = plan_seeds(config)
    run.claim(config, seeds)
    batches = make_batches(seeds, config.run.batch_size)
    key = config_key(config)
    with fewer_collections():
        for stage in STAGE_ORDER:
            batches = [run_stage(stage, batch, key, run) for batch in batches]
        ledger, _ = finalize(batches, config, run, time.perf_counter() - started)
    return ledger
