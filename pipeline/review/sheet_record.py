"""A review sheet's decisions into the review store, through `ReviewStore.append`, as the review app
and the Label Studio import record theirs: each event names its origin (source `sheet:<file name>`),
its annotator, its edit check, and keeps the value it replaced.

"The one changed last counts", across the app, the API, Label Studio and sheets. A sheet's row
carries when the export wrote it (`exported_at`), which a copy, a download or a re-save keeps: a
decision the annotator made elsewhere after that, which differs from the row, is a conflict. It
stands and the row is named, unless `sheet_wins` (then the row is recorded and named). A row without
its export time (the column cut) falls back to the file's modification time (never later than now),
which a copy resets: a decision made elsewhere after it stands, and one before it that the row
replaces is named. A row already recorded (by this file or another sheet), or already the annotator's
current decision, records nothing, so importing the same file again changes nothing.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pipeline.review.decision_conflicts import LaterDecision, RequestIdReused, later_elsewhere
from pipeline.review.decisions import Event
from pipeline.review.labelstudio_import import unchanged_since
from pipeline.review.scoring import EditScorer
from pipeline.review.sheet_format import export_time
from pipeline.review.sheet_plan import SheetDecision
from pipeline.review.store import ReviewStore
from pipeline.storage import exclusive_lock

SOURCE_PREFIX = "sheet:"


def sheet_source(path: Path) -> str:
    return SOURCE_PREFIX + Path(path).name


def instant(at: str) -> datetime:
    """A stored time (ISO 8601; one without a zone is UTC, as the store writes them) as a moment."""
    moment = datetime.fromisoformat(at)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def saved_at(path: Path) -> str:
    """When the sheet was last saved, as the store writes times (ISO 8601 UTC); a time ahead of this
    machine's clock (a copy from a machine set ahead) is taken as now, so it outranks nothing made since."""
    saved = min(datetime.fromtimestamp(Path(path).stat().st_mtime, timezone.utc), datetime.now(timezone.utc))
    return saved.isoformat(timespec="milliseconds")


@dataclass
class SheetOutcome:
    added: int = 0
    unchanged: int = 0  # rows already recorded, or already the annotator's decision
    refused: list[str] = field(default_factory=list)  # "line N: why", rows the store's rules keep out
    replaced: list[str] = field(default_factory=list)  # "line N: ...", decisions made elsewhere a row replaced


def sheet_events(store: ReviewStore, run_id: str) -> dict[tuple[str, str], Event]:
    """The latest event per (pair, annotator) that any sheet import recorded."""
    with store.connect() as db:
        rows = db.execute("SELECT * FROM events WHERE id IN (SELECT MAX(id) FROM events WHERE run_id = ? "
                          "AND source LIKE ? GROUP BY pair_id, annotator)", (run_id, SOURCE_PREFIX + "%")).fetchall()
    return {(row["pair_id"], row["annotator"]): Event(**row) for row in rows}


@contextmanager
def sheet_import_lock(store: ReviewStore, run_id: str):
    """One sheet import of a run at a time: two would each compare with the same current decisions."""
    def busy(holder: str) -> ValueError:
        return ValueError(f"another sheet import of {run_id} is running{f' (pid {holder})' if holder else ''}: "
                          "wait for it to end, then run this one again")

    with exclusive_lock(store.path.parent / f".sheet-import.{run_id}.lock", busy):
        yield


def record_sheet(decisions: list[SheetDecision], store: ReviewStore, scorer: EditScorer, *, annotator: str,
                 source: str, at: str, sheet_wins: bool = False) -> SheetOutcome:
    """Record the rows' decisions; `at` is the file's time (`saved_at`), for rows without their export time."""
    outcome = SheetOutcome()
    if not decisions:
        return outcome
    run_id = decisions[0].item.run_id
    from_sheets = sheet_events(store, run_id)
    current = {(e.pair_id, e.annotator): e for e in store.current(run_id=run_id, annotator=annotator)}
    for row in decisions:
        key = (row.decision.pair_id, annotator)
        previous = current.get(key)
        if unchanged_since(from_sheets.get(key), row.decision) or unchanged_since(previous, row.decision):
            outcome.unchanged += 1
            continue
        conflict = decided_since(previous, source, row, at)
        if conflict and not sheet_wins:  # spares an edit's check; `append` checks the undated rule again
            outcome.refused.append(conflict_stands(row, previous, at))
            continue
        check = scorer.check(row.item, row.decision.edited_query) if row.decision.action == "edit" else None
        if check is not None and not check.passes:
            outcome.refused.append(f"line {row.line}: the edit fails its check ({'; '.join(check.problems)}); to "
                                   "keep it, decide it in the review app with an override reason")
            continue
        if record_row(row, previous, store, check, annotator=annotator, source=source, at=row_at(row, at),
                      keep_later=not sheet_wins, outcome=outcome) and previous and previous.source != source:
            if conflict or row.exported_at is None:  # a decision made elsewhere, replaced: say so
                outcome.replaced.append(replaced_note(row, previous, at, conflict))
    return outcome


def decided_since(previous: Event | None, source: str, row: SheetDecision, at: str) -> bool:
    """Whether the annotator's current decision came from elsewhere after the row was exported (after
    the file's time, for a row without its export time)."""
    if row.exported_at is None:
        return later_elsewhere(previous, source, at)
    return previous is not None and previous.source != source and instant(previous.at) >= row.exported_at


def row_at(row: SheetDecision, at: str) -> str:
    """When the row's decision is dated: the file's time, but never before the export (a clock behind) nor
    after now."""
    if row.exported_at is None or instant(at) >= row.exported_at:
        return at
    return min(row.exported_at, datetime.now(timezone.utc)).isoformat(timespec="milliseconds")


def record_row(row: SheetDecision, previous: Event | None, store: ReviewStore, check, *, annotator: str,
               source: str, at: str, keep_later: bool, outcome: SheetOutcome) -> bool:
    """Append the row's decision; whether it was recorded (a refusal is added to `outcome`)."""
    request_id = f"{source}:{row.decision.pair_id}:after-{previous.id if previous else 0}"
    try:
        _, new = store.append(row.decision.model_copy(update={"request_id": request_id}), annotator=annotator,
                              run_id=row.item.run_id, source=source, check=check, at=at, keep_later=keep_later)
    except LaterDecision as later:
        outcome.refused.append(later_stands(row, later.current, at))
        return False
    except RequestIdReused as error:
        outcome.refused.append(f"line {row.line}: {error}")
        return False
    outcome.added += new
    return new


def later_stands(row: SheetDecision, later: Event, at: str) -> str:
    return (f"line {row.line}: the sheet (saved {at}) is older than {later.annotator}'s decision on pair "
            f"{later.pair_id} from {later.source} ({later.at}: {later.summary()}), which stands")


def conflict_stands(row: SheetDecision, later: Event, at: str) -> str:
    if row.exported_at is None:
        return later_stands(row, later, at)
    return (f"line {row.line}: {later.annotator} decided pair {later.pair_id} in {later.source} at {later.at} "
            f"({later.summary()}) after this sheet was exported ({export_time(row.exported_at)}), and the sheet "
            "says otherwise: that decision stands (--sheet-wins records the sheet's)")


def replaced_note(row: SheetDecision, previous: Event, at: str, conflict: bool) -> str:
    if row.exported_at is not None:
        why = f"made after the sheet was exported ({export_time(row.exported_at)}), as --sheet-wins says"
    elif conflict:
        why = f"made after the file was saved ({at}), as --sheet-wins says"
    else:
        why = f"made before the file's time ({at}), which a copy, a download or a re-save makes now"
    return (f"line {row.line}: replaced {previous.annotator}'s decision on pair {previous.pair_id} from "
            f"{previous.source} ({previous.at}: {previous.summary()}), {why}")
