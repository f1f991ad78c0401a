"""A review sheet's decisions into the review store, through `ReviewStore.append`, as the review app
and the Label Studio import record theirs: each event names its origin (source `sheet:<file name>`),
its annotator, its edit check, and keeps the value it replaced.

A sheet's decisions are dated when the file was last saved (its modification time, never later than
now): "the one changed last counts" holds across the app, the API, Label Studio and sheets. A decision
the annotator made elsewhere after the sheet was saved stands, and the row is named. A row already
recorded (by this file or another sheet), or already the annotator's current decision, records
nothing, so importing the same file again changes nothing.
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
from pipeline.review.sheet_plan import SheetDecision
from pipeline.review.store import ReviewStore
from pipeline.storage import exclusive_lock

SOURCE_PREFIX = "sheet:"


def sheet_source(path: Path) -> str:
    return SOURCE_PREFIX + Path(path).name


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
                 source: str, at: str) -> SheetOutcome:
    outcome = SheetOutcome()
    if not decisions:
        return outcome
    run_id = decisions[0].item.run_id
    from_sheets = sheet_events(store, run_id)
    current = {(e.pair_id, e.annotator): e for e in store.current(run_id=run_id, annotator=annotator)}
    for row in decisions:
        key = (row.decision.pair_id, annotator)
        if unchanged_since(from_sheets.get(key), row.decision) or unchanged_since(current.get(key), row.decision):
            outcome.unchanged += 1
            continue
        if later_elsewhere(current.get(key), source, at):  # spares an edit's check; `append` checks it again
            outcome.refused.append(later_stands(row, current[key], at))
            continue
        check = scorer.check(row.item, row.decision.edited_query) if row.decision.action == "edit" else None
        if check is not None and not check.passes:
            outcome.refused.append(f"line {row.line}: the edit fails its check ({'; '.join(check.problems)}); to "
                                   "keep it, decide it in the review app with an override reason")
            continue
        previous = current.get(key)
        request_id = f"{source}:{row.decision.pair_id}:after-{previous.id if previous else 0}"
        try:
            _, new = store.append(row.decision.model_copy(update={"request_id": request_id}), annotator=annotator,
                                  run_id=run_id, source=source, check=check, at=at, keep_later=True)
        except LaterDecision as later:
            outcome.refused.append(later_stands(row, later.current, at))
            continue
        except RequestIdReused as error:
            outcome.refused.append(f"line {row.line}: {error}")
            continue
        outcome.added += new
    return outcome


def later_stands(row: SheetDecision, later: Event, at: str) -> str:
    return (f"line {row.line}: the sheet (saved {at}) is older than {later.annotator}'s decision on pair "
            f"{later.pair_id} from {later.source} ({later.at}: {later.summary()}), which stands")
