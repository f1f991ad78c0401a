"""Review decisions flow back into the run: `review/decisions.parquet` and `review/accepted_ids.json`.

A pair's review state comes from its annotators' current decisions:
unreviewed (nobody), skipped (only skips), accepted / rejected (every label
agrees; an edit counts as an accept), conflict (labels disagree, to adjudicate).
An adjudication (`leakless review adjudicate`) settles a pair: its label wins,
and the annotators' events stay in the store as its history.
An edited query keeps both versions: `instruction` is the pipeline's final
query, `instruction_reviewed` the annotator's edit (or the pipeline's if none),
with the edit's re-check (leak score, spans, harm verdict) and any override reason.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.review.agreement import LABELS
from pipeline.review.batches import load_batches, review_dir
from pipeline.review.store import ADJUDICATION, Event, ReviewStore
from pipeline.storage import atomic_write_json
from pipeline.writers.tables import write_frame

DECISIONS_FILE = "decisions.parquet"
ACCEPTED_FILE = "accepted_ids.json"


def review_state(events: list[Event]) -> str:
    if not events:
        return "unreviewed"
    settled = [event for event in events if event.source == ADJUDICATION]
    if settled:
        return {"accept": "accepted", "reject": "rejected"}[LABELS[max(settled, key=lambda e: e.id).action]]
    labels = {LABELS[event.action] for event in events if event.action in LABELS}
    if not labels:
        return "skipped"
    return {"accept": "accepted", "reject": "rejected"}[labels.pop()] if len(labels) == 1 else "conflict"


def pair_row(item, events: list[Event]) -> dict:
    state = review_state(events)
    edits = [event for event in events if event.action == "edit"]
    latest_edit = max(edits, key=lambda event: event.id) if edits and state == "accepted" else None
    reasons = sorted({event.reason for event in events if event.reason})
    adjudicators = sorted({event.annotator for event in events if event.source == ADJUDICATION})
    return {
        "id": item.pair_id, "run_id": item.run_id, "batch_id": item.batch_id, "category": item.category,
        "review_state": state, "instruction": item.instruction,
        "instruction_reviewed": latest_edit.edited_query if latest_edit else item.instruction,
        "edited": latest_edit is not None,
        "new_leak_score": latest_edit.new_leak_score if latest_edit else None,
        "new_leak_spans": list(latest_edit.leak_spans) if latest_edit else [],
        "edit_harm_verdict": latest_edit.harm_verdict if latest_edit else None,
        "edit_harm_reason": latest_edit.harm_reason if latest_edit else None,
        "edit_detector_version": latest_edit.detector_version if latest_edit else None,
        "override_reason": latest_edit.override_reason if latest_edit else None,
        "override_by": latest_edit.annotator if latest_edit and latest_edit.override_reason else None,
        "leak_score": item.leak_score,
        "reason": "; ".join(reasons) if reasons else None,
        "annotators": sorted({event.annotator for event in events if event.source != ADJUDICATION}),
        "adjudicated_by": ", ".join(adjudicators) or None,
        "history": sum(event.history for event in events),
    }


def review_frame(run_dir: Path, store: ReviewStore) -> pd.DataFrame:
    """One row per exported pair: its review state, queries, reasons and annotators."""
    run_dir = Path(run_dir)
    by_pair: dict[str, list[Event]] = {}
    for event in store.current(run_id=run_dir.name):
        by_pair.setdefault(event.pair_id, []).append(event)
    rows = [pair_row(item, by_pair.get(item.pair_id, []))
            for batch in load_batches(run_dir) for item in batch.items.values()]
    return pd.DataFrame(rows).sort_values("id", ignore_index=True)


def import_review(run_dir: Path, store: ReviewStore) -> pd.DataFrame:
    """Write the run's review outcome next to its data; returns the frame written."""
    frame = review_frame(run_dir, store)
    write_frame(frame, review_dir(run_dir) / DECISIONS_FILE)
    accepted = sorted(frame.loc[frame["review_state"] == "accepted", "id"])
    atomic_write_json(review_dir(run_dir) / ACCEPTED_FILE, accepted)
    return frame


def reviewed_pairs(run_dir: Path) -> pd.DataFrame:
    """The imported review outcome per pair: id, review_state, instruction_reviewed, reason,
    annotators (plus the pipeline's instruction, edit flag and scores). A release keeps the
    rows whose review_state is "accepted", with instruction_reviewed as the query."""
    path = review_dir(run_dir) / DECISIONS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `leakless review import {Path(run_dir).name}` first")
    return pd.read_parquet(path)
