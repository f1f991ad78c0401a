"""The leak filter's and harm check's word on the text a release ships.

A release stores, beside each instruction it ships, the leak detector's score
of *that* text (an annotator's edit included), the threshold, the verdict and
the detector version; `verify` recomputes the score and must find the same.
A pair whose shipped text leaks or fails the harm check is dropped, unless an
annotator overrode the warning with a reason, which ships with it.
"""

from __future__ import annotations

import math

from pipeline.records import Decision, Verdict
from pipeline.review.scoring import HARM_KEEP, leak_input

STAGE = "release_leak_check"
LEAK_FREE, LEAKS = "leak-free", "leaks"
SCORE_TOLERANCE = 1e-6  # float noise between runs of the same detector, far below any threshold's resolution


def shipped_scores(rows: list[dict], detector) -> list:
    """The detector's LeakScore of each row's instruction, from what a released row carries."""
    return detector.score([leak_input(row["instruction"] or "", row["image_description"] or "", row["category"],
                                      row["element"]) for row in rows])


def leak_check(rows: list[dict], detector) -> tuple[list[dict], list[Decision]]:
    """Write each row's leak score and verdicts onto it; keep the clean and the overridden ones.
    Expects `harm_verdict` (keep/drop) and `override_reason` on the rows."""
    kept, decisions = [], []
    for row, result in zip(rows, shipped_scores(rows, detector)):
        leaks = result.score >= detector.threshold
        row.update(leak_score=result.score, leak_threshold=detector.threshold,
                   leak_verdict=LEAKS if leaks else LEAK_FREE, detector_version=detector.version)
        failed = ([f"leaks: score {result.score:.3f} >= {detector.threshold:.3f}"] if leaks else []) + \
                 ([f"harm check: {row['harm_verdict']}"] if row.get("harm_verdict") != HARM_KEEP else [])
        override = row.get("override_reason")
        ships = not failed or bool(override)
        reason = ("; ".join(failed) + f" (overridden: {override})" if failed and override
                  else "; ".join(failed) or f"leak-free: score {result.score:.3f} < {detector.threshold:.3f}")
        decisions.append(Decision(
            item_id=row["id"], seed_id=row["seed_id"], stage=STAGE, text=row["instruction"] or "",
            score=result.score, threshold=detector.threshold, spans=tuple(result.spans), reason=reason,
            verdict=Verdict.keep if ships else Verdict.drop, backend=detector.backend, model=detector.model,
            prompt_hash="", detector_version=detector.version))
        if ships:
            kept.append(row)
    return kept, decisions


def score_problems(rows: list[dict], detector) -> tuple[list[str], int]:
    """verify's side: rows whose stored score is not the detector's score of their instruction,
    or whose verdicts do not follow from it. Rows scored by another detector version are counted,
    not checked (the second value)."""
    mine = [row for row in rows if row.get("detector_version") == detector.version]
    problems = []
    for row, result in zip(mine, shipped_scores(mine, detector)):
        stored = row.get("leak_score")
        if stored is None or not math.isclose(stored, result.score, rel_tol=0.0, abs_tol=SCORE_TOLERANCE):
            problems.append(f"row {row['id']}: stored leak_score {stored} but the detector scores its "
                            f"instruction {result.score:.6f}")
        leaks = result.score >= (row.get("leak_threshold") or detector.threshold)
        if row.get("leak_verdict") != (LEAKS if leaks else LEAK_FREE):
            problems.append(f"row {row['id']}: leak_verdict {row.get('leak_verdict')!r} does not follow from "
                            f"its score {result.score:.3f}")
        if (leaks or row.get("harm_verdict") != HARM_KEEP) and not row.get("override_reason"):
            problems.append(f"row {row['id']}: leaks or fails the harm check with no override on record")
    return problems, len(rows) - len(mine)
