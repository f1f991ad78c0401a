"""verify's side of the release leak check: each shipped row's stored leak record read on its own, then
beside the current detector's score of its instruction (`leak_check` is the release's side, and says
what the columns hold)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from pipeline.elements.terms import NAME_ONLY, library_terms
from pipeline.plain_text import has_words
from pipeline.progress import Advance, no_advance
from pipeline.release.leak_check import (LEAK_FREE, LEAKS, NOT_ENGLISH, SCORE_TOLERANCE, is_english,
                                         shipped_scores, terms_problems)
from pipeline.review.scoring import HARM_KEEP


def score_problems(rows: list[dict], detector, advance: Advance = no_advance) -> tuple[list[str], list[str]]:
    """verify's side: (problems, notes). On every row, with no detector needed: its stored leak record is
    whole, its `leak_verdict` follows from its stored score and threshold, and a row that leaks or fails
    the harm check has an override. Then every row is re-scored by `detector`:

    - a row of the detector's version must store exactly that score, with a verdict that follows from it;
    - a row of another version (a release made before a detector refit, or before the leak-check columns)
      is a problem only if the current detector finds it leaking at the row's stored threshold while the
      release calls it leak-free with no override; otherwise it is counted in a note.
    """
    problems = [f"row {row['id']}: its instruction has no words to score" for row in rows
                if not has_words(row.get("instruction") or "")]
    if problems:
        advance(len(problems))  # `advance` hears the rows re-scored, these at once
    rows = [row for row in rows if has_words(row.get("instruction") or "")]
    others: Counter = Counter()  # another detector version -> its rows the current detector raises no problem on
    cleared = 0  # of those, rows stored as leaking (shipped with an override) that now score leak-free
    unmarked = 0  # rows not in English stored with a score's verdict (released before such rows were marked)
    for row, result in zip(rows, shipped_scores(rows, detector, advance)):
        rescored = _Rescored.of(row, result.score, is_english(result), detector)
        unmarked += not rescored.english and row.get("leak_verdict") in (LEAKS, LEAK_FREE)
        older = [] if rescored.current else _older_version_problems(rescored, detector)
        problems += (_stored_score_problems(rescored) + _record_problems(rescored)
                     + _threshold_problems(rescored, detector)
                     + (_verdict_problems(rescored) if rescored.current else older) + _override_problems(rescored))
        if not rescored.current and not older:
            others[rescored.version or "none recorded"] += 1
            cleared += not rescored.leaks_now and row.get("leak_verdict") == LEAKS
    notes = unstored_terms_notes(rows)
    if unmarked:
        notes.append(f"{unmarked} row(s) are not English, outside the leak detector's scope, but store the verdict "
                     f"of their score (released before such rows were marked {NOT_ENGLISH!r}): it clears nothing")
    if others:
        notes.append(f"{sum(others.values())} row(s) were scored by another detector version "
                     f"({', '.join(sorted(others))}) than {detector.version}; re-scored by it, their verdicts agree"
                     + (f" (except {cleared} stored as leaking, shipped with an override, that now score leak-free)"
                        if cleared else ""))
    return problems, notes


@dataclass(frozen=True)
class _Rescored:
    """A released row's stored leak record beside the current detector's score of its instruction."""

    row: dict
    score: float  # the current detector's
    english: bool  # the current detector reads the instruction as English (its scope)
    stored: float | None  # the row's leak_score
    threshold: float | None  # the row's leak_threshold
    version: str  # the detector version the row names ("" for none)
    current: bool  # that version is the current detector's
    at: float  # the threshold the row is judged at now
    same_score: bool  # stored by the current version, within the noise of its score

    @classmethod
    def of(cls, row: dict, score: float, english: bool, detector) -> _Rescored:
        version = row.get("detector_version") or ""
        stored, threshold = _number(row.get("leak_score")), _number(row.get("leak_threshold"))
        current = version == detector.version
        return cls(row=row, score=score, english=english, stored=stored, threshold=threshold, version=version,
                   current=current,
                   # a stored threshold looser than the detector's is a problem in any version: it decides nothing
                   at=detector.threshold if threshold is None else min(threshold, detector.threshold),
                   same_score=(current and stored is not None
                               and math.isclose(stored, score, rel_tol=0.0, abs_tol=SCORE_TOLERANCE)))

    @property
    def leaks_now(self) -> bool:
        # within the noise, the verdict is the stored score's: the one the release decided on
        return (self.stored if self.same_score else self.score) >= self.at

    @property
    def recorded(self) -> bool:
        return bool(self.version) or self.row.get("leak_verdict") is not None

    @property
    def record_problem(self) -> str | None:
        return stored_record_problem(self.row) if self.recorded else None


def _stored_score_problems(rescored: _Rescored) -> list[str]:
    """A row of the current version must store the score the detector gives it."""
    if not rescored.current or rescored.same_score:
        return []
    return [f"row {rescored.row['id']}: stored leak_score {rescored.stored} but the detector scores its "
            f"instruction {rescored.score:.6f}"]


def _record_problems(rescored: _Rescored) -> list[str]:
    return ([rescored.record_problem] if rescored.record_problem else []) + terms_problems(rescored.row)


def _threshold_problems(rescored: _Rescored, detector) -> list[str]:
    if rescored.threshold is None or rescored.threshold <= detector.threshold:
        return []
    return [f"row {rescored.row['id']}: stored leak_threshold {rescored.threshold} is looser than the detector's "
            f"{detector.threshold}"]


def _verdict_problems(rescored: _Rescored) -> list[str]:
    """A row of the current version: its verdict must follow from its score and language (said once, by the
    record's own check, where that already found it wrong); a row not in English may keep its score's
    verdict, as releases gave it before such rows were marked."""
    verdict = rescored.row.get("leak_verdict")
    by_score = LEAKS if rescored.leaks_now else LEAK_FREE
    if rescored.record_problem is not None or verdict in ((by_score,) if rescored.english else (NOT_ENGLISH, by_score)):
        return []
    follows = "its English instruction" if verdict == NOT_ENGLISH else f"its score {rescored.score:.3f}"
    return [f"row {rescored.row['id']}: leak_verdict {verdict!r} does not follow from {follows}"]


def _older_version_problems(rescored: _Rescored, detector) -> list[str]:
    """A row of another version: a problem only where the current detector finds it leaking while the
    release calls it leak-free with no override."""
    row = rescored.row
    if not rescored.leaks_now or row.get("leak_verdict") == LEAKS or row.get("override_reason"):
        return []
    was = "none" if rescored.stored is None else f"{rescored.stored:.3f}"
    return [f"row {row['id']}: the release calls it leak-free (leak_score {was} by detector "
            f"{rescored.version or 'none recorded'}), but the current detector {detector.version} scores its "
            f"instruction {rescored.score:.3f} >= {rescored.at:.3f}: it leaks, with no override on record"]


def _override_problems(rescored: _Rescored) -> list[str]:
    """A row that leaks, is marked not English or fails the harm check ships only with an override."""
    row, stored, threshold = rescored.row, rescored.stored, rescored.threshold
    flagged = ((rescored.recorded and (row.get("leak_verdict") in (LEAKS, NOT_ENGLISH)
                                       or row.get("harm_verdict") != HARM_KEEP
                                       or (stored is not None and threshold is not None and stored >= threshold)))
               or (rescored.current and rescored.leaks_now))
    if not flagged or row.get("override_reason"):
        return []
    return [f"row {row['id']}: leaks or fails the harm check with no override on record"]


def unstored_terms_notes(rows: list[dict]) -> list[str]:
    """A note counting the rows re-scored by their element's name alone: they store no element terms (a
    release made before it stored them) and the shipped library does not know their element, so a synonym
    in their instruction goes unseen. A library element's terms are the ones it was released with."""
    unstored = [row for row in rows if not row.get("element_terms")]
    by_name = sum(library_terms(row["category"], row["element"]).fallback == NAME_ONLY for row in unstored)
    return [f"{by_name} row(s) store no element_terms (released before they were stored) and their element is not "
            f"in the shipped library: re-scored by its name alone, so a synonym in their instruction goes unseen"
            ] if by_name else []


def stored_record_problem(row: dict) -> str | None:
    """What is wrong with a row's stored leak record on its own, with no detector: it is not whole, or
    its verdict does not follow from the stored score and threshold; None when neither."""
    stored, threshold = _number(row.get("leak_score")), _number(row.get("leak_threshold"))
    missing = [name for name, value in (("leak_score", stored), ("leak_threshold", threshold),
                                        ("detector_version", row.get("detector_version") or None))
               if value is None]
    missing += ["leak_verdict"] if row.get("leak_verdict") not in (LEAKS, LEAK_FREE, NOT_ENGLISH) else []
    if missing:
        return f"row {row['id']}: incomplete leak check record ({', '.join(missing)} missing or not valid)"
    # whether a text is English is the detector's to say (`_verdict_problems`), not the stored score's
    if row["leak_verdict"] not in (NOT_ENGLISH, LEAKS if stored >= threshold else LEAK_FREE):
        return (f"row {row['id']}: leak_verdict {row['leak_verdict']!r} does not follow from its stored score "
                f"{stored:.3f} and threshold {threshold:.3f}")
    return None


def _number(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
