"""Review decisions flow back into the run: `review/decisions.parquet` and `review/accepted_ids.json`.

A pair's review state comes from its annotators' current decisions:
unreviewed (nobody), skipped (only skips), accepted / rejected (every label
agrees: all reject, or all ship the same text), conflict (to adjudicate: labels
that would ship different texts, an overridden edit beside another label, or
accepts beside rejects). An adjudication (`leakless review adjudicate`) settles
a pair: its label wins, and the annotators' events stay in the store as its
history. An adjudicator's accept ships the one text the accepting labels agree
on; an adjudicator's edit names the text that ships (`--accept-original` records
the pipeline's own query that way, `--accept-edit NAME` that annotator's edit).
An edited query keeps both versions: `instruction` is the pipeline's final
query, `instruction_reviewed` the annotator's edit (or the pipeline's if none),
with the edit's re-check (leak score, spans, harm verdict) and any override reason.
Queries are compared, and an edit ships, as one line (`decisions.one_line_query`): an edit
stored before edits were normalised, the pipeline's query plus a line break, is no edit.
`labels` keeps everyone's current label on the pair with its time and source.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from pipeline.review.agreement import LABELS, adjudication, adjudication_stands, outcome, shown_label
from pipeline.review.batches import load_batches, review_dir
from pipeline.review.decisions import ADJUDICATION, Event, one_line_query, same_query
from pipeline.review.store import ReviewStore
from pipeline.storage import atomic_write_json
from pipeline.writers.tables import write_frame

DECISIONS_FILE = "decisions.parquet"
ACCEPTED_FILE = "accepted_ids.json"
NAMED_PAIRS = 10  # a note names at most this many pairs


def standing_adjudication(item, events: list[Event]) -> Event | None:
    """The adjudication that settles the pair: the latest, unless it lapsed (`agreement.adjudication_stands`)."""
    settled = adjudication(events)
    return settled if settled and adjudication_stands(settled, events, item.instruction) else None


def review_state(item, events: list[Event]) -> str:
    if not events:
        return "unreviewed"
    if settled := standing_adjudication(item, events):
        return {"accept": "accepted", "reject": "rejected"}[LABELS[settled.action]]
    outcomes = {outcome(event, item.instruction) for event in events
                if event.action in LABELS and event.source != ADJUDICATION}  # one that stands no more
    if not outcomes:
        return "skipped"
    if len(outcomes) > 1:
        return "conflict"
    return "rejected" if outcomes == {"reject"} else "accepted"


def annotator_edits(item, events: list[Event]) -> list[Event]:
    """The annotators' edits that change the pipeline's query."""
    return [event for event in events
            if event.action == "edit" and event.source != ADJUDICATION
            and not same_query(event.edited_query, item.instruction)]


def shipped_edit(item, events: list[Event]) -> Event | None:
    """The edit whose text an accepted pair ships, or None when it ships the pipeline's query.
    An adjudicator's edit names the text (its annotator's edit of it carries the re-check; one whose
    annotator changed it since settles nothing, `agreement.adjudication_stands`);
    otherwise the accepting labels agree on one text, or an adjudicator's accept settled them."""
    if review_state(item, events) != "accepted":
        return None
    edits = annotator_edits(item, events)
    settled = standing_adjudication(item, events)
    if settled is not None and settled.action == "edit":
        if same_query(settled.edited_query, item.instruction):
            return None
        edits = [edit for edit in edits if same_query(edit.edited_query, settled.edited_query)]
    # Latest by when it was made (labels changed after an adjudication can hold several): a Label
    # Studio import records an annotation made before an app edit after it, with the annotation's
    # own time (times are UTC ISO strings, so they sort).
    return max(edits, key=lambda event: (event.at, event.id)) if edits else None


def accepting_texts(item, events: list[Event]) -> tuple[list[Event], set[str]]:
    """The annotators' accepting labels and the texts they would ship, each as one line."""
    accepting = [event for event in events if LABELS.get(event.action) == "accept" and event.source != ADJUDICATION]
    return accepting, {one_line_query(event.edited_query if event.action == "edit" else item.instruction)
                       for event in accepting}


def plain_accept_text(item, events: list[Event]) -> str:
    """The text an adjudicator's plain accept ships, recorded on the adjudication as its edit: the
    one text the accepting labels agree on (the pipeline's query where none accepts). An annotator
    who changes that label later lapses the adjudication (`agreement.adjudication_stands`)."""
    _, texts = accepting_texts(item, events)
    text = texts.pop() if len(texts) == 1 else item.instruction
    return item.instruction if same_query(text, item.instruction) else text


def plain_accept_refusal(item, events: list[Event]) -> str | None:
    """Why an adjudicator's plain accept cannot settle the pair: the accepting labels would ship
    different texts, so the adjudicator names the one that ships."""
    accepting, texts = accepting_texts(item, events)
    if len(texts) < 2:
        return None
    shown = "; ".join(f"{event.annotator}={shown_label(event, item)}" for event in accepting)
    return (f"{item.pair_id}: the accepting labels ship different texts ({shown}): "
            "name the one that ships with --accept-edit NAME or --accept-original")


def edit_shipping(item, events: list[Event], text: str) -> Event | None:
    """The annotators' latest edit to `text`, whose re-check and override reason ship with it once an
    adjudicator chose that text (as `shipped_edit` picks it); None for the pipeline's own query."""
    edits = [edit for edit in annotator_edits(item, events) if same_query(edit.edited_query, text)]
    return max(edits, key=lambda event: (event.at, event.id)) if edits else None


def accept_refusal(item, events: list[Event], text: str) -> str | None:
    """Why an adjudicator may not settle the pair as shipping `text`: the hard block stops the row with
    it, or with the override reason that ships beside it, as the review app reads both at entry. A
    store written before that check can hold such an edit; a release would drop the pair as guardrail,
    and the pipeline's own query with it. None where it may ship."""
    if (blocked := blocked_choice(item, events, text)) is None:
        return None
    what, hit = blocked
    others = [*other_choices(item, events, text), "--reject REASON"]
    return (f"{item.pair_id}: {what} is blocked by the guardrail ({hit.rule}: {hit.matched!r}), so a release "
            f"would drop the pair: settle it with {' or '.join(others)}")


def blocked_choice(item, events: list[Event], text: str):
    """(what is blocked, the hit) where the hard block stops the pair shipping `text`, read as
    `scoring.edit_blocked` reads an edit and then its override reason; None where it may ship."""
    from pipeline.review.scoring import edit_blocked  # the detector's and harm check's modules: not for import
    edit = edit_shipping(item, events, text)
    if hit := edit_blocked(item, text):
        return (f"{edit.annotator}'s edit" if edit else "the pipeline's query"), hit
    if edit and edit.override_reason and (hit := edit_blocked(item, text, edit.override_reason)):
        return f"{edit.annotator}'s override reason", hit
    return None


def other_choices(item, events: list[Event], text: str) -> list[str]:
    """The adjudicator's options that ship another text the hard block lets through."""
    choices = [] if same_query(text, item.instruction) else [(None, item.instruction)]
    choices += sorted({(edit.annotator, edit.edited_query) for edit in annotator_edits(item, events)
                       if not same_query(edit.edited_query, text)})
    return [f"--accept-edit {name}" if name else "--accept-original" for name, query in choices
            if blocked_choice(item, events, query) is None]


def edit_of(annotator: str, events: list[Event]) -> Event:
    """The annotator's current edit on the pair, whose text an adjudicator's --accept-edit ships."""
    edits = {event.annotator: event for event in events if event.action == "edit" and event.source != ADJUDICATION}
    if annotator not in edits:
        raise ValueError(f"{annotator} has no edit on this pair (edits by: {', '.join(sorted(edits)) or 'nobody'})")
    return edits[annotator]


def reject_reasons(state: str, events: list[Event], pipeline_query: str | None = None) -> str | None:
    """The reasons behind a rejected or disputed pair; an accepted pair ships with none.
    An adjudicated pair gives the adjudicator's reason alone; one whose adjudication lapsed
    (`agreement.adjudication_stands`) gives its annotators' current reasons."""
    if state not in ("rejected", "conflict"):
        return None
    settled = adjudication(events)
    if settled and adjudication_stands(settled, events, pipeline_query):
        reasons = {settled.reason}
    else:
        reasons = {event.reason for event in events if event.source != ADJUDICATION}
    reasons = sorted(reason for reason in reasons if reason)
    return "; ".join(reasons) or None


def labels(events: list[Event]) -> list[dict]:
    """Everyone's current label on the pair, oldest first, with when and how it was given."""
    return [{"annotator": event.annotator, "action": event.action, "reason": event.reason, "at": event.at,
             "source": event.source} for event in sorted(events, key=lambda event: event.id)]


def pair_row(item, events: list[Event]) -> dict:
    state = review_state(item, events)
    latest_edit = shipped_edit(item, events)
    settled = standing_adjudication(item, events)  # a lapsed one settles nothing: it is credited with nothing
    return {
        "id": item.pair_id, "run_id": item.run_id, "batch_id": item.batch_id, "category": item.category,
        "review_state": state, "instruction": item.instruction,
        "instruction_reviewed": one_line_query(latest_edit.edited_query) if latest_edit else item.instruction,
        "edited": latest_edit is not None,
        "new_leak_score": latest_edit.new_leak_score if latest_edit else None,
        "new_leak_spans": list(latest_edit.leak_spans) if latest_edit else [],
        "edit_harm_verdict": latest_edit.harm_verdict if latest_edit else None,
        "edit_harm_reason": latest_edit.harm_reason if latest_edit else None,
        "edit_detector_version": latest_edit.detector_version if latest_edit else None,
        "override_reason": latest_edit.override_reason if latest_edit else None,
        "override_by": latest_edit.annotator if latest_edit and latest_edit.override_reason else None,
        "edited_by": latest_edit.annotator if latest_edit else None,
        "leak_score": item.leak_score,
        "reason": reject_reasons(state, events, item.instruction),
        "annotators": sorted({event.annotator for event in events if event.source != ADJUDICATION}),
        "adjudicated_by": settled.annotator if settled else None,
        "history": sum(event.history for event in events),
        "labels": labels(events),
        "decided_at": max((event.at for event in events), default=None),
    }


def shipped_text_note(item, events: list[Event]) -> list[str]:
    """What an accepted pair will ship, for whoever settles it: the text, whose it is, its leak
    score and harm check, and the override that lets a flagged edit through."""
    edit = shipped_edit(item, events)
    if edit is None:
        score, threshold = item.leak_score, item.leak_threshold
        lines = [f"ships: the pipeline's query {item.instruction!r}"]
    else:
        score, threshold = edit.new_leak_score, edit.leak_threshold
        lines = [f"ships: {edit.annotator}'s edit {edit.edited_query!r}"]
    harm = f"; harm check {edit.harm_verdict}" if edit is not None and edit.harm_verdict else ""
    lines.append(f"leak score {_number(score)} (threshold {_number(threshold)}): "
                 f"{_leak_verdict(score, threshold, edit)}{harm}")
    if edit is not None and edit.override_reason:
        lines.append(f"kept by {edit.annotator}'s override: {edit.override_reason}")
        lines.append("warning: this edit failed its leak or harm check, or is not English; "
                     "--accept-original ships the pipeline's query instead")
    return lines


def _leak_verdict(score: float | None, threshold: float | None, edit: Event | None) -> str:
    from pipeline.detect.detector import in_scope  # fastText's language model, for edits only

    if edit is not None and not in_scope(edit.edited_query):  # as the release's leak check reads it
        return "not English: outside the leak detector's scope, so the score clears nothing"
    return "LEAKS" if score is not None and threshold is not None and score >= threshold else "leak-free"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


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


def release_blocks(run_dir: Path, frame: pd.DataFrame) -> dict[str, str]:
    """Accepted pair -> the hard block's rule, for each accepted pair a release would drop as guardrail:
    the text it ships or the edit's override reason, read with the pair's texts as `scoring.edit_blocked`
    reads them (the app and adjudicate refuse such a label now; a store saved before can hold one)."""
    from pipeline.review.scoring import edit_blocked  # the detector's and harm check's modules: not for import
    items = {pid: item for batch in load_batches(run_dir) for pid, item in batch.items.items()}
    blocks = {}
    for row in frame[frame["review_state"] == "accepted"].to_dict("records"):
        reason = row["override_reason"] if row["edited"] and isinstance(row["override_reason"], str) else None
        if hit := edit_blocked(items[row["id"]], row["instruction_reviewed"], reason):
            blocks[row["id"]] = hit.rule
    return blocks


def release_blocks_note(run_id: str, blocks: dict[str, str]) -> str | None:
    """One line on the accepted pairs a release would drop (count and rule), with how to settle them."""
    if not blocks:
        return None
    rules = ", ".join(f"{rule}: {count}" for rule, count in sorted(Counter(blocks.values()).items()))
    pairs = sorted(blocks)
    more = len(pairs) - NAMED_PAIRS
    named = ", ".join(pairs[:NAMED_PAIRS]) + (f" and {more} more" if more > 0 else "")
    return (f"{len(pairs)} accepted pair(s) would be dropped at release, the hard block stopping the text it ships "
            f"or its override reason ({rules}): {named}; settle each with `leakless review adjudicate {run_id} "
            "PAIR --by NAME --accept-original` (or --accept-edit NAME, --reject REASON)")


def reviewed_pairs(run_dir: Path) -> pd.DataFrame:
    """The imported review outcome per pair: id, review_state, instruction_reviewed, reason,
    annotators (plus the pipeline's instruction, edit flag and scores). A release keeps the
    rows whose review_state is "accepted", with instruction_reviewed as the query."""
    path = review_dir(run_dir) / DECISIONS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `leakless review import {Path(run_dir).name}` first")
    return pd.read_parquet(path)
