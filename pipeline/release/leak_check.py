"""The leak filter's and harm check's word on the text a release ships.

A release stores, beside each instruction it ships, the leak detector's score
of *that* text (an annotator's edit included), the threshold, the verdict and
the detector version; `verify` recomputes the score and must find the same.
A pair whose shipped text leaks or fails the harm check is dropped, unless an
annotator overrode the warning with a reason, which ships with it. A row is judged by the
stricter of its run's leak filter threshold (`--set leak_filter.threshold`, from the run's
config.json: `pipeline/review/run_limits.py`) and the detector's, as the review judged its edit;
the threshold used is stored on the row.

The element is named by the terms its run's leak filter named it by (`RunElements`:
a grown or custom element's synonyms too, not just the shipped library's), stored
on the row as `element_terms` (a JSON list) so `verify` scores the same text the same way. A row
that stores none (a release made before they were) is scored with the shipped
library's terms, as it was released; verify's notes count those whose element the
library does not know (scored by its name alone).

The detector reads English only (`LeakScore.english`): a row whose instruction it marks not English
gets the verdict `not-english`, whatever its score, and ships only with an override, as its edit
needed one in review. A release made before rows were marked calls such a row `leak-free` or `leaks`
by its score; verify accepts that and counts those rows in a note.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass

from pipeline.contracts import ReasonCode
from pipeline.elements.terms import NAME_ONLY, RunElements, library_terms
from pipeline.plain_text import has_words
from pipeline.progress import Advance, no_advance
from pipeline.records import Decision, Verdict
from pipeline.release.final_filter import text_written_by
from pipeline.review.run_limits import RunLimitsByRun
from pipeline.review.scoring import HARM_KEEP, leak_input

STAGE = "release_leak_check"
LEAK_FREE, LEAKS, NOT_ENGLISH = "leak-free", "leaks", "not-english"
# Float noise between runs of the same detector, far below any threshold's resolution: the adapter's
# encoder gives a text a slightly different probability in another batch, and a release's row scored
# beside other rows than at release moved by 1.02e-6 (the tolerance was 1e-6 then).
SCORE_TOLERANCE = 1e-4
# Rows per detector call, so a bar moves as they are scored: audit's slice (`benchmark_audit.SCORE_SLICE`),
# no dearer a row than one call for all.
SCORE_SLICE = 250


def shipped_scores(rows: list[dict], detector, advance: Advance = no_advance) -> list:
    """The detector's LeakScore of each row's instruction, from what a released row carries."""
    return scored_in_slices(detector, shipped_inputs(rows), advance)


def scored_in_slices(detector, inputs: list, advance: Advance) -> list:
    """The detector's LeakScore of each input, `SCORE_SLICE` per call, `advance` told after each."""
    scores: list = []
    for start in range(0, len(inputs), SCORE_SLICE):
        part = inputs[start:start + SCORE_SLICE]
        scores += detector.score(part)
        advance(len(part))
    return scores


def shipped_inputs(rows: list[dict]) -> list:
    """The detector's LeakInput of each row's instruction: what it is judged with."""
    return [leak_input(row["instruction"] or "", row["image_description"] or "", row["category"], row["element"],
                       stored_terms(row)) for row in rows]


def stored_terms(row: dict) -> list[str] | None:
    """The element terms a row stores, None where it stores none or no JSON list of terms (`terms_problems`)."""
    try:
        terms = json.loads(row.get("element_terms") or "null")
    except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
        return None
    return terms if isinstance(terms, list) and terms and all(isinstance(term, str) for term in terms) else None


def leak_verdict(score: float, threshold: float, english: bool) -> str:
    """A shipped text's leak verdict: outside the detector's scope (not English), its score clears nothing."""
    return NOT_ENGLISH if not english else LEAKS if score >= threshold else LEAK_FREE


def is_english(result) -> bool:
    return getattr(result, "english", True)  # a score without the field claims no scope


def terms_problems(row: dict) -> list[str]:
    if row.get("element_terms") and stored_terms(row) is None:
        return [f"row {row['id']}: element_terms {row['element_terms']!r} is not a JSON list of terms"]
    return []


def leak_check(rows: list[dict], detector, elements: RunElements | None = None, limits: RunLimitsByRun | None = None,
               advance: Advance = no_advance) -> tuple[list[dict], list[Decision]]:
    """Write each row's element terms (from `elements`, the runs' own; without, the shipped library's),
    leak score, threshold (from `limits`, the stricter of its run's and the detector's; without, the
    detector's) and verdicts onto it; keep the clean and the overridden ones.
    Expects `harm_verdict` (keep/drop) and `override_reason` on the rows. `advance` hears how many
    rows were scored (a row with no words to score counts as done at once)."""
    for row in rows:
        found = (elements.terms(row["run_id"], row["seed_id"], row["category"], row["element"]) if elements
                 else library_terms(row["category"], row["element"]))
        row["element_terms"] = json.dumps(list(found.terms), ensure_ascii=False)
    kept, decisions = [], []
    # an edit stored before edits with no words were refused ("?"): nothing to score, nothing to ship
    wordless = [row for row in rows if not has_words(row["instruction"] or "")]
    decisions += [Decision(item_id=row["id"], seed_id=row["seed_id"], stage=STAGE, text=row["instruction"] or "",
                           code=ReasonCode.release_no_words, reason="the shipped query has no words to score",
                           verdict=Verdict.drop, backend=detector.backend, model=detector.model, prompt_hash="",
                           detector_version=detector.version, **text_written_by(row)) for row in wordless]
    rows = [row for row in rows if has_words(row["instruction"] or "")]
    if wordless:
        advance(len(wordless))
    inputs = shipped_inputs(rows)
    for row, judged, result in zip(rows, inputs, scored_in_slices(detector, inputs, advance)):
        threshold = limits.of(row["run_id"]).threshold(detector.threshold) if limits else detector.threshold
        leaks, english = result.score >= threshold, is_english(result)
        row.update(leak_score=result.score, leak_threshold=threshold,
                   leak_verdict=leak_verdict(result.score, threshold, english), detector_version=detector.version)
        failed = ([] if english else ["not English: outside the leak detector's scope"]) + \
                 ([f"leaks: score {result.score:.3f} >= {threshold:.3f}"] if leaks else []) + \
                 ([f"harm check: {row['harm_verdict']}"] if row.get("harm_verdict") != HARM_KEEP else [])
        override = row.get("override_reason")
        ships = not failed or bool(override)
        reason = ("; ".join(failed) + f" (overridden: {override})" if failed and override
                  else "; ".join(failed) or f"leak-free: score {result.score:.3f} < {threshold:.3f}")
        code = (ReasonCode.release_overridden if failed and override
                else ReasonCode.release_not_english if not english  # whatever its score: it means nothing
                else ReasonCode.release_leaks if leaks
                else ReasonCode.release_harm_dropped if failed else ReasonCode.release_leak_free)
        decisions.append(Decision(
            item_id=row["id"], seed_id=row["seed_id"], stage=STAGE, text=row["instruction"] or "",
            score=result.score, threshold=threshold, spans=tuple(result.spans), code=code, reason=reason,
            verdict=Verdict.keep if ships else Verdict.drop, backend=detector.backend, model=detector.model,
            prompt_hash="", detector_version=detector.version, image_description=judged.image_description,
            element_terms=tuple(judged.element_terms), **text_written_by(row)))
        if ships:
            kept.append(row)
    return kept, decisions


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
