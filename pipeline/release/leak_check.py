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

The detector reads English only (`LeakScore.english`): a row whose instruction, or image
description, it marks not English gets the verdict `not-english`, whatever its score, and ships only
with an override, as its edit needed one in review. A release made before rows were marked calls such
a row `leak-free` or `leaks` by its score; verify accepts that and counts those rows in a note.
"""

from __future__ import annotations

import json

from pipeline.contracts import ReasonCode
from pipeline.elements.terms import RunElements, library_terms
from pipeline.plain_text import has_words
from pipeline.progress import Advance, in_slices, no_advance
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
    return in_slices(detector.score, shipped_inputs(rows), SCORE_SLICE, advance)


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
    for row, judged, result in zip(rows, inputs, in_slices(detector.score, inputs, SCORE_SLICE, advance)):
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
