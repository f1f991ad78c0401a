"""Which run a scheduled build carries on.

A schedule fires unattended: nobody is there to pass `--run-id` after a stopped `leakless serve`, a
killed process or a night the LLM server was down. So a firing continues the latest run made with what
its config makes, when that run is unfinished (no `manifest.json`) or finished with seeds that failed on
transient errors (a rerun tries those again; at most three firings, and not once the run is exported for
review); otherwise it starts a new run. Older runs are left as they
are: the latest one already holds what they would make.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from pipeline import run_lock, summary
from pipeline.config import BuildConfig, ConfigError
from pipeline.messages import first_line
from pipeline.rundir import RunDir, new_run_id
from pipeline.storage import atomic_write_text


@contextmanager
def scheduled_run(config: BuildConfig) -> Iterator[str]:
    """The run id a firing builds under (`scheduled_run_id`), locked while it builds: `run_lock.RunBusy`
    while another process (a `leakless build` of that run) still holds it."""
    run_id = scheduled_run_id(config)
    with run_lock.held(RunDir(config.run.runs_dir, run_id)):
        yield run_id


# A finished run's transient failures are tried again by this many firings at most: a seed that times
# out every night would otherwise keep every later firing on that run, and no new run would start.
MAX_RETRIES_OF_A_FINISHED_RUN = 3
RETRIES_FILE = ".scheduled_retries"


def scheduled_run_id(config: BuildConfig) -> str:
    """The run id a scheduled build with `config` builds under."""
    latest = latest_run_made_with(config)
    if latest is None:
        return new_run_id(config)
    if not latest.manifest.exists():
        return latest.run_id
    if worth_retrying(latest):
        count_retry(latest)
        return latest.run_id
    return new_run_id(config)


def worth_retrying(run: RunDir) -> bool:
    """A finished run with seeds that failed on transient errors, not yet exported for review (a rerun
    would rewrite the shards its batches were cut from) nor retried too often."""
    return (not (run.path / "review").exists() and retries(run) < MAX_RETRIES_OF_A_FINISHED_RUN
            and retriable_failed_seeds(run) > 0)


def retries(run: RunDir) -> int:
    try:
        return int((run.path / RETRIES_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return 0


def count_retry(run: RunDir) -> None:
    atomic_write_text(run.path / RETRIES_FILE, f"{retries(run) + 1}\n")


def latest_run_made_with(config: BuildConfig) -> RunDir | None:
    """The most recently made run under `run.runs_dir` that a build with `config` may resume: the
    same config (settings of how it runs aside), prompt files and elements (`RunDir.check`)."""
    runs = sorted(runs_under(Path(config.run.runs_dir)), key=made_at, reverse=True)
    latest = next((run for run in runs if run.made_with(config)), None)
    if latest is None:
        return None
    try:
        latest.check(config)
    except ConfigError:  # prompt files or elements changed since: that run cannot go on
        return None
    return latest


def runs_under(runs_dir: Path) -> list[RunDir]:
    if not runs_dir.is_dir():
        return []
    return [RunDir(runs_dir, folder.name) for folder in runs_dir.iterdir()
            if not folder.name.startswith(".") and (folder / "config.json").is_file()]


def made_at(run: RunDir) -> float:
    """config.json is written once, when the run is first claimed."""
    return run.config_record.stat().st_mtime


def retriable_failed_seeds(run: RunDir) -> int:
    """The finished run's failed seeds that lost an item to a transient error, counted by the rule its
    summary used (`pipeline.summary.retriable_failed_seeds`), from its ledger and failures files."""
    failures = pd.read_parquet(run.path / "failures.parquet")
    if "transient" not in failures.columns:  # made before failures said whether they were transient
        return 0
    ledger = pd.read_parquet(run.path / "ledger.parquet", columns=["seed_id", "state"])
    return summary.retriable_failed_seeds(ledger.itertuples(), failures.itertuples())


def lost_server_message(run_id: str, error: BaseException) -> str:
    """A firing's failed state when its build lost the Prefect server: the task runner's error says only
    that it could not take its concurrency slots or reach the API, not that the run waits to go on."""
    return (f"lost the Prefect server during run {run_id} ({type(error).__name__}: {first_line(error)}); the run "
            "folder is unfinished, and the next firing of this schedule carries the run on")

