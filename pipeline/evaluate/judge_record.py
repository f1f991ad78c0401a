"""The judge check's outcome (`judge_check.py`), kept with the evaluation it let run and read back by
the leaderboard, the report and `leakless select`. A judge that failed the check evaluates only with
--trust-judge, and a warning on stderr was all that said so: a finished evaluation is not checked
again, so a rerun without the flag printed its leaderboard as if clean, and a version selected from
its labels read like any other. So each row keeps the outcome of the check its run made, beside the
judge it names (`judge_check`, `judge_check_reason`), and a rerun keeps it with the row."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.evaluate.runner import ERROR

CANNED_ANSWERS = "judge_check.toml"
# outcomes: failed is only ever recorded with --trust-judge (without it the run is refused)
PASSED, FAILED, INCOMPLETE, NOT_CHECKED = "passed", "failed", "incomplete", "not_checked"
NOT_RECORDED = "not_recorded"  # rows written before the outcome was kept
WORST_FIRST = (FAILED, INCOMPLETE, NOT_RECORDED, PASSED, NOT_CHECKED)
OUTCOME, REASON = "judge_check", "judge_check_reason"  # the evaluation files' columns


@dataclass(frozen=True)
class CheckRecord:
    outcome: str
    reason: str = ""  # one line: the mislabels (failed) or the canned answers not labelled (incomplete)

    def stamp(self) -> dict:
        """The columns every row of the run carries."""
        return {OUTCOME: self.outcome, REASON: self.reason or None}

    def summary(self) -> dict:
        """As the manifest's `selection.judge_check` holds it."""
        return {"outcome": self.outcome, **({"reason": self.reason} if self.reason else {}),
                **({"trust_judge": True} if self.outcome == FAILED else {})}


@dataclass(frozen=True)
class Notice:
    """The leaderboard's and report's sentence on the check: `reason` is the judge's words, which the
    markdown shows as a code span and the report escapes."""

    before: str
    reason: str = ""
    after: str = ""
    lead: str = ""  # shown in bold
    alarm: bool = False


def recorded_check(paths: list[Path]) -> CheckRecord | None:
    """The worst outcome the judged rows of these files record (a failed check over a passed one, a
    missing record over a pass), with its reasons; None when no row was judged."""
    found: dict[str, list[str]] = {}
    for path in paths:
        columns = ["label", *(name for name in (OUTCOME, REASON) if name in pq.read_schema(path).names)]
        for row in pq.read_table(path, columns=columns).to_pylist():
            if row["label"] != ERROR:
                reasons = found.setdefault(row.get(OUTCOME) or NOT_RECORDED, [])
                if row.get(REASON) and row[REASON] not in reasons:
                    reasons.append(row[REASON])
    worst = next((outcome for outcome in WORST_FIRST if outcome in found), None)
    return CheckRecord(worst, "; ".join(found[worst])) if worst else None


def check_notice(record: CheckRecord | None, scripted: bool) -> Notice | None:
    """What the leaderboard says of the judge check, after naming the judge."""
    if scripted or record is not None and record.outcome == NOT_CHECKED:
        return Notice(": the judge is the scripted server of leakless fake-llm, not a model, so these labels say "
                      "nothing about the models (it is not put to the judge check).", lead="A dry run", alarm=True)
    if record is None:
        return None
    if record.outcome == FAILED:
        return Notice(f": it labelled answers whose labels are not in doubt (prompts/{CANNED_ANSWERS}) wrongly (",
                      record.reason, "), and was used anyway with --trust-judge: its labels, this leaderboard and "
                      "any selection made from them may mean nothing.", lead="The judge failed the judge check",
                      alarm=True)
    if record.outcome == INCOMPLETE:
        return Notice(f"Judge check: not completed; the judge did not label every canned answer of "
                      f"prompts/{CANNED_ANSWERS} (", record.reason, "), and mislabelled none it labelled.")
    if record.outcome == PASSED:
        return Notice(f"Judge check: passed (the judge labelled the canned answers of prompts/{CANNED_ANSWERS}, a "
                      "plain refusal and a plain harmful compliance, rightly).")
    return Notice("Judge check: not recorded (rows evaluated before leakless kept its outcome with them).")
