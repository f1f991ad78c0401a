"""The element terms a pair is re-scored with after its build: those its run's leak filter used.

The build's leak filter names a seed's element by every term the seed carries (name, synonyms,
broader terms), and that element may come from outside the shipped library: a `run.elements_file`,
the element store, an `extend` plan, a pool caption. A release and a review edit re-score the pair's
query, so they read the terms from the same place: the seeds in the run's batch checkpoints
(`batches/<batch>/<stage>.json`), which every build writes and keeps. Runs made before this was
read need nothing new.

A pair whose seed no checkpoint holds (a run folder without `batches/`) falls back to the shipped
library's terms for its element, or the element's name alone for one outside the library; the
fallback is said (`Terms.fallback`, `RunElements.notes`), never taken silently.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.messages import first_line
from pipeline.records import Element, Seed

# Every stage's checkpoint of a batch carries the same seeds; the first stage's is the smallest.
FIRST_CHECKPOINT = "drafts.json"
FROM_LIBRARY = "the shipped library's terms for its element"
NAME_ONLY = "its element's name alone (the element is not in the shipped library)"


@dataclass(frozen=True)
class Terms:
    terms: tuple[str, ...]
    fallback: str = ""  # what was used instead of the run's own terms (FROM_LIBRARY, NAME_ONLY); empty if none


@lru_cache(maxsize=1)
def _library() -> dict[tuple[str, str], tuple[str, ...]]:
    from pipeline.taxonomy import load_elements
    return {(element.category, element.element): element.terms for element in load_elements()}


def library_terms(category: str, element: str) -> Terms:
    """The lookup for a pair its run says nothing of: the shipped library's terms, or just the name."""
    known = _library().get((category, element))
    return Terms(known, FROM_LIBRARY) if known else Terms((element,), NAME_ONLY)


def seed_elements(run_dir: Path) -> dict[str, Element]:
    """seed id -> the element that seed carried through the run's build, from its batch checkpoints."""
    elements: dict[str, Element] = {}
    for batch in sorted(path for path in (Path(run_dir) / "batches").glob("*") if path.is_dir()):
        checkpoint = batch / FIRST_CHECKPOINT
        if not checkpoint.is_file():
            checkpoint = next(iter(sorted(batch.glob("*.json"))), None)
        if checkpoint is None:
            continue
        for seed in _seeds(checkpoint):
            elements[seed.id] = _merged(elements.get(seed.id), seed.element)
    return elements


def _seeds(checkpoint: Path) -> list[Seed]:
    try:
        return [Seed.model_validate(seed) for seed in json.loads(checkpoint.read_text(encoding="utf-8"))["seeds"]]
    except (ValueError, KeyError, TypeError) as error:
        first = first_line(error)
        raise ValueError(f"{checkpoint}: not a batch checkpoint ({first})") from None


def _merged(known: Element | None, element: Element) -> Element:
    # One seed id in two batch folders (a run id reused after its elements changed): no term of either
    # may go unseen, so both sets count.
    if known is None:
        return element
    return known.model_copy(update={"synonyms": tuple(dict.fromkeys((*known.synonyms, *element.synonyms))),
                                    "broader": tuple(dict.fromkeys((*known.broader, *element.broader)))})


class RunElements:
    """The elements the seeds of some runs carried, each run read once on first need. Thread-safe:
    the review app scores edits from several threads."""

    def __init__(self, folder_of: Callable[[str], Path | None], read: dict[str, dict[str, Element]] | None = None):
        self._folder_of = folder_of
        self._runs = dict(read or {})  # run id -> seed id -> element
        self._fallbacks: Counter = Counter()  # (run id, fallback) -> pairs scored with it
        self._lock = threading.Lock()

    @classmethod
    def of_runs(cls, run_dirs: Iterable[Path]) -> RunElements:
        """For a release: the run folders it reads, each read now (a run id is its folder's name)."""
        return cls(lambda run_id: None, {Path(run_dir).name: seed_elements(run_dir) for run_dir in run_dirs})

    @classmethod
    def under(cls, runs_dir: Path) -> RunElements:
        """For the review: any run of the runs folder, found by run id."""
        return cls(lambda run_id: Path(runs_dir) / run_id)

    def element(self, run_id: str, seed_id: str) -> Element | None:
        with self._lock:
            if run_id not in self._runs:
                folder = self._folder_of(run_id)
                self._runs[run_id] = seed_elements(folder) if folder is not None else {}
            return self._runs[run_id].get(seed_id)

    def seeds(self) -> dict[str, Element]:
        """seed id -> element over the runs read so far (all of them, for `of_runs`)."""
        with self._lock:
            merged: dict[str, Element] = {}
            for run in self._runs.values():
                for seed_id, element in run.items():
                    merged[seed_id] = _merged(merged.get(seed_id), element)
            return merged

    def terms(self, run_id: str, seed_id: str, category: str, element: str) -> Terms:
        """The terms the run's leak filter named the seed's element by; a fallback, counted, without them."""
        known = self.element(run_id, seed_id)
        if known is not None:
            return Terms(known.terms)
        found = library_terms(category, element)
        with self._lock:
            self._fallbacks[(run_id, found.fallback)] += 1
        return found

    def notes(self) -> list[str]:
        """One line per run and fallback: how many pairs were scored without their run's own terms."""
        return [f"run {run_id}: {count} pair(s) whose seed no batch checkpoint holds (batches/) were scored "
                f"with {fallback}" + ("; a synonym in their query goes unseen" if fallback == NAME_ONLY else "")
                for (run_id, fallback), count in sorted(self._fallbacks.items())]
