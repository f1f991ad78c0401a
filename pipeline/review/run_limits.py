"""The bars a run's own config set for its pairs, which an edit of them (and the release's leak check
of the text it ships) must clear: the leak filter's threshold and the harm check's intent similarity.

A build keeps its config as `config.json` in the run folder (`RunDir.claim`), `--set` overrides
included. A run built with `--set leak_filter.threshold=0.2` judged its own queries at 0.2, so an edit
judged at the detector's 0.5 would pass a bar the pipeline's query never had. An edit is held to the
stricter of the run's threshold and the detector's. A run folder without a config.json (not made by
`leakless build`) is held to the defaults.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from pipeline.config import HarmCheckConfig, one_line
from pipeline.rundir import RunDir


class _StoredLeakFilter(BaseModel):
    # Only the value read here: another key of the section, one a later leakless renamed or dropped,
    # must not stop the review or the release of an older run.
    threshold: float | None = Field(None, ge=0.0, le=1.0)


class _StoredHarmCheck(BaseModel):
    min_intent_similarity: float = Field(HarmCheckConfig().min_intent_similarity, ge=0.0, le=1.0)


class StoredLimits(BaseModel):
    """The two values of a run's config.json that judge its pairs; the rest is not read here."""
    leak_filter: _StoredLeakFilter = _StoredLeakFilter()
    harm_check: _StoredHarmCheck = _StoredHarmCheck()


@dataclass(frozen=True)
class RunLimits:
    leak_threshold: float | None = None  # the run's leak_filter.threshold; None: the detector's own
    min_intent_similarity: float = HarmCheckConfig().min_intent_similarity

    def threshold(self, detector_threshold: float) -> float:
        """The stricter (lower) of the run's leak threshold and the detector's."""
        return detector_threshold if self.leak_threshold is None else min(self.leak_threshold, detector_threshold)


def read_limits(run: RunDir) -> RunLimits:
    """The limits in a run's config.json; the defaults where it keeps none. A config.json that
    cannot be read is a ValueError (one line): guessing would judge edits by the wrong bar."""
    try:
        config = run.stored_config()
        if config is None:
            return RunLimits()
        stored = StoredLimits.model_validate(config)
    except ValidationError as error:
        raise ValueError(f"{run.config_record}: {one_line(error)}") from None
    except ValueError as error:  # not JSON
        raise ValueError(f"{run.config_record}: not a run config ({error})") from None
    return RunLimits(leak_threshold=stored.leak_filter.threshold,
                     min_intent_similarity=stored.harm_check.min_intent_similarity)


class RunLimitsByRun:
    """Each run's limits, read once on first need. Thread-safe: the review app checks edits from
    several threads."""

    def __init__(self, run_of: Callable[[str], RunDir | None]):
        self._run_of = run_of
        self._read: dict[str, RunLimits] = {}
        self._lock = threading.Lock()

    @classmethod
    def under(cls, runs_dir: Path) -> RunLimitsByRun:
        """For the review: any run of the runs folder, found by run id."""
        return cls(lambda run_id: RunDir(runs_dir, run_id))

    @classmethod
    def of_runs(cls, run_dirs: Iterable[Path]) -> RunLimitsByRun:
        """For a release: the run folders it reads (a run id is its folder's name)."""
        runs = {Path(run_dir).name: RunDir(Path(run_dir).parent, Path(run_dir).name) for run_dir in run_dirs}
        return cls(runs.get)

    def of(self, run_id: str) -> RunLimits:
        with self._lock:
            if run_id not in self._read:
                run = self._run_of(run_id)
                self._read[run_id] = read_limits(run) if run is not None else RunLimits()
            return self._read[run_id]
