"""A filled review sheet's rows -> the decisions they say, each bad row named with its line and why.

Verdicts are read whatever their case and spacing (` Accept `); anything else (`TRUE`, `1`, `ok`) is
not guessed at: the row is named. A row whose verdict, reason and edited query are all empty is not
reviewed. A pair id is matched exactly against the run's batches (a spreadsheet that turned one into
`1.23457E+15` is told so), and a pair is decided only by an annotator it is assigned to, as in the
review app. Edits are checked for length and the guardrails' hard block here; their leak and harm
check is made when they are recorded (`sheet_record.py`). Each decision keeps its row's export time
(`exported_at`), where the row still holds it as the export wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from pipeline.review.batches import ReviewBatch, ReviewItem
from pipeline.review.decisions import REASONS, DecisionIn
from pipeline.review.scoring import edit_refusal
from pipeline.review.sheet_format import (EXPORTED_AT, FILL_COLUMNS, ID_MARK, VERDICTS, exported_at_of,
                                          formula_error, pair_id_of, reads_as_number, unguarded)
from pipeline.review.sheet_read import SheetRow


@dataclass(frozen=True)
class SheetDecision:
    line: int
    decision: DecisionIn
    item: ReviewItem
    exported_at: datetime | None = None  # when the export wrote the row; None: the column was cut or changed


@dataclass
class SheetPlan:
    decisions: list[SheetDecision] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)  # "line N: why", one per row not used
    blank: int = 0  # rows of pairs left without a verdict: not reviewed
    matched: int = 0  # rows whose pair id is a pair of the run
    export_column: bool = True  # whether the header still has exported_at

    @property
    def undated(self) -> int:
        """Decisions without their export time: dated by the file's time instead."""
        return sum(each.exported_at is None for each in self.decisions)


class BadRow(ValueError):
    """A row that says no usable decision; its message says why."""


def words(cell: str) -> str:
    """` Still  Leaks ` -> `still leaks`."""
    return " ".join(cell.split()).lower()


def reason_of(cell: str) -> str | None:
    reason = re.sub(r"[\s\-]+", "_", words(unguarded(cell.strip())))
    if not reason:
        return None
    if reason not in REASONS:
        raise BadRow(f"reason {cell.strip()!r} is not one of {', '.join(REASONS)}")
    return reason


def action_of(verdict: str, reason: str | None, edited: str) -> str:
    """The decision's action from what the row's three cells say."""
    if edited and verdict in ("reject", "skip"):
        raise BadRow(f"an edited query beside {verdict}: an edit ships, so its verdict is accept or edit")
    if reason and verdict != "reject":
        raise BadRow(f"a reason beside {verdict or 'no verdict'}: only a reject takes a reason")
    if verdict == "reject" and not reason:
        raise BadRow(f"a reject needs a reason: one of {', '.join(REASONS)}")
    if verdict == "edit" and not edited:
        raise BadRow("verdict edit with no edited_query: write the query the pair should ship")
    return "edit" if edited else verdict


def unmatched(pair_id: str, run_id: str) -> str:
    mangled = reads_as_number(pair_id) or re.fullmatch(r"[\d.,]+(E\+?\d+)?", pair_id, re.IGNORECASE)
    hint = (f": a spreadsheet turned the id into a number; copy the id (written `{ID_MARK}...` where it is "
            "all digits) from the exported sheet") if mangled else ""
    return f"pair id {pair_id!r} is no pair of run {run_id}{hint}"


def row_decision(row: SheetRow, items: dict[str, tuple[str, ReviewItem]], annotator: str,
                 assigned: set[str]) -> DecisionIn | None:
    """The row's decision; None for a row not reviewed; BadRow for one that says nothing usable."""
    if row.extra:
        raise BadRow(f"{len(row.extra)} filled cell(s) right of the header row's last cell ({row.extra[0]!r}...): "
                     "a cell holding the separator must be quoted")
    if errors := [name for name in FILL_COLUMNS if formula_error(row.cells.get(name, ""))]:
        raise BadRow(f"{errors[0]} {row.cells[errors[0]].strip()!r} is a formula's error, not text: type ' before =")
    pair_id = pair_id_of(unguarded(row.cells["pair_id"].strip()))
    verdict = words(row.cells["verdict"])
    edited = unguarded(row.cells.get("edited_query", "").strip())
    if not (verdict or edited or row.cells.get("reason", "").strip()):
        return None
    if not pair_id:
        raise BadRow("no pair_id")
    if pair_id not in items:
        raise BadRow(unmatched(pair_id, next(iter(items.values()))[1].run_id if items else "?"))
    if verdict and verdict not in VERDICTS:  # TRUE, 1, ok: not guessed at
        raise BadRow(f"verdict {row.cells['verdict'].strip()!r} is not one of {', '.join(VERDICTS)}")
    reason = reason_of(row.cells.get("reason", ""))
    if pair_id not in assigned:
        raise BadRow(f"pair {pair_id} is not assigned to {annotator}")
    action = action_of(verdict, reason, edited)
    try:
        return DecisionIn(batch_id=items[pair_id][0], pair_id=pair_id, action=action, reason=reason,
                          edited_query=edited or None)
    except ValidationError as error:
        raise BadRow(str(error.errors()[0]["msg"]).removeprefix("Value error, ")) from None


def plan_sheet(rows: list[SheetRow], batches: list[ReviewBatch], annotator: str) -> SheetPlan:
    """Each row's decision, or why it has none. A pair on two filled rows is named on both and
    decided by neither (which one the annotator meant is theirs to say)."""
    items = {pid: (b.manifest.batch_id, item) for b in batches for pid, item in b.items.items()}
    assigned = {pid for b in batches for pid in b.manifest.pairs_for(annotator)}
    plan = SheetPlan(export_column=not rows or EXPORTED_AT in rows[0].cells)
    for row in rows:
        plan.matched += pair_id_of(unguarded(row.cells["pair_id"].strip())) in items
        try:
            decision = row_decision(row, items, annotator, assigned)
        except BadRow as error:
            plan.bad.append(f"line {row.line}: {error}")
            continue
        if decision is None:
            plan.blank += 1
            continue
        item = items[decision.pair_id][1]
        if decision.action == "edit" and (refusal := edit_refusal(item, decision.edited_query)):
            plan.bad.append(f"line {row.line}: {refusal}")
            continue
        exported_at = exported_at_of(row.cells.get(EXPORTED_AT, ""))
        plan.decisions.append(SheetDecision(row.line, decision, item, exported_at))
    return drop_repeated(plan)


def drop_repeated(plan: SheetPlan) -> SheetPlan:
    lines: dict[str, list[int]] = {}
    for each in plan.decisions:
        lines.setdefault(each.decision.pair_id, []).append(each.line)
    repeated = {pair: found for pair, found in lines.items() if len(found) > 1}
    for pair, found in repeated.items():
        plan.bad.extend(f"line {line}: pair {pair} is decided on lines {', '.join(map(str, found))}: keep one row "
                        "per pair" for line in found)
    plan.decisions = [each for each in plan.decisions if each.decision.pair_id not in repeated]
    plan.bad.sort(key=lambda message: int(message.split()[1].rstrip(":")))
    return plan
