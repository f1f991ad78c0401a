"""Label Studio JSON exports back into the review store.

An annotation that is not a usable decision is reported with its task and skipped; the rest are
recorded, each stamped with the time Label Studio last changed it. Earlier imported decisions that
Label Studio no longer says are withdrawn by `pipeline.review.labelstudio_withdrawals`.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from pipeline.review.batches import ReviewBatch, ReviewItem
from pipeline.review.decision_conflicts import LaterDecision, later_elsewhere
from pipeline.review.decisions import DecisionIn, Event, same_query
from pipeline.review.labelstudio_annotations import (annotation_decision, annotation_ids, annotation_time,
                                                     skip_decision, time_if_readable, unusable_because)
from pipeline.review.labelstudio_unrecorded import (Draft, held_by_draft, held_by_unread_drafts, newer_draft,
                                                    task_drafts, unrecorded_notes)
from pipeline.review.labelstudio_users import annotator_name, is_unnamed
from pipeline.review.scoring import EditScorer, edit_refusal
from pipeline.review.sheet_read import is_sheet_header
from pipeline.review.store import ReviewStore
from pipeline.storage import exclusive_lock

SOURCE = "labelstudio"  # the events an import records
OUR_FIELDS = {"pair_id", "batch_id", "query"}  # the task data `review labelstudio-export` writes


def not_json(text: str, error: ValueError) -> str:
    """Why the file is not read: it is a review sheet, Label Studio's CSV or TSV export, or not JSON at all."""
    header = text.lstrip("\ufeff \t\r\n").partition("\n")[0]
    if is_sheet_header(header):
        return ("this is a review sheet (CSV), not a Label Studio export: record it with `leakless review "
                "import-sheet RUN FILE --user NAME`")
    for kind, separator in (("CSV", ","), ("TSV", "\t")):
        if "pair_id" in header and separator in header:
            return f"this is Label Studio's {kind} export: export the project as JSON"
    return f"not JSON ({error})"


def check_export(exported: object, run_id: str) -> list[dict]:
    """The file is a Label Studio JSON export of this run's tasks, or a ValueError says why not."""
    if not isinstance(exported, list) or not exported:
        raise ValueError("expected a Label Studio JSON export: a non-empty list of tasks")
    for number, exported_task in enumerate(exported, start=1):
        data = exported_task.get("data") if isinstance(exported_task, dict) else None
        if data is None and isinstance(exported_task, dict) and OUR_FIELDS <= set(exported_task):
            raise ValueError("this is Label Studio's JSON_MIN export (one flattened row per annotation, "
                             "without the tasks' full annotations): export the project as JSON")
        if not isinstance(data, dict) or not OUR_FIELDS <= set(data):
            raise ValueError(f"task {number} of the list is not one of ours (expected a Label Studio "
                             "JSON export of `review labelstudio-export` tasks, with data.pair_id, "
                             "data.batch_id and data.query)")
    others = sorted({str(t["data"].get("run_id", "(none)")) for t in exported} - {run_id})
    if others:
        raise ValueError(f"the file's tasks name run {', '.join(others)}, not {run_id}: import it into "
                         "the run it was exported from")
    return exported


@dataclass(frozen=True)
class Planned:
    decision: DecisionIn
    item: ReviewItem
    annotator: str
    where: str  # the task and annotation, for messages
    at: str | None = None  # when it was last changed in Label Studio; None: not in the export
    cancelled: bool = False  # a skip in Label Studio (a cancelled annotation): `decision` is a skip
    annotation: str = ""  # Label Studio's annotation id
    task: str = ""  # Label Studio's task id


@dataclass(frozen=True)
class Unusable:
    """An annotation the import refuses: where it is the annotator's word since their recorded
    decision on the pair, that decision no longer says what they say in Label Studio."""
    pair_id: str
    annotator: str
    annotation: str  # Label Studio's annotation id
    at: str | None  # when Label Studio last changed it; None: the export does not say (or not readably)
    where: str


@dataclass(frozen=True)
class ImportPlan:
    planned: list[Planned]  # one per (pair, annotator): the annotation Label Studio changed last
    skipped: list[str]  # an annotation that is not a usable decision, naming its task
    notes: list[str]  # an annotation recorded, but not all of it used
    unusable: list[Unusable] = field(default_factory=list)  # those skipped for what they say
    # each task's id: its annotations' ids, whether cancelled; None where they cannot all be read
    tasks: dict[str, dict[str, bool] | None] = field(default_factory=dict)
    projects: set[str] = field(default_factory=set)  # the Label Studio projects the file's tasks are in
    batches: set[str] = field(default_factory=set)  # the batches the file has tasks of
    drafts: dict[str, list[Draft]] = field(default_factory=dict)  # each task's id: its unsubmitted drafts
    # the latest time anything in the file was changed in Label Studio (a task's `updated_at`, which
    # deleting one of its annotations moves too, or an annotation's): the export is no older
    latest: str | None = None


def plan_import(exported_tasks: list[dict], batches: list[ReviewBatch],
                users: dict[str, str] | None = None) -> ImportPlan:
    """A decision per usable annotation; a line per one skipped or partly used. A cancelled annotation
    (Label Studio's Skip) is the annotator's skip, and takes part in "the one changed last counts".
    As in the review app, an annotator decides only the pairs assigned to them."""
    by_id = {batch.manifest.batch_id: batch for batch in batches}
    plan = ImportPlan([], [], [], latest=latest_change(exported_tasks))
    for exported in exported_tasks:
        task = str(exported.get("id"))
        plan.projects.add(str(exported.get("project")))
        plan.batches.add((exported.get("data") or {}).get("batch_id"))
        plan.drafts[task] = task_drafts(exported, users or {})
        plan.notes.extend(unrecorded_notes(exported, plan.drafts[task], users or {}))
        annotations = exported.get("annotations", [])
        if not isinstance(annotations, list):
            plan.skipped.append(f"task {task}: annotations is not a list")
            plan.tasks[task] = None
            continue
        held: dict[str, bool] | None = {}
        for annotation in annotations:
            if not isinstance(annotation, dict):
                plan.skipped.append(f"task {task}: an annotation that is not an object")
                held = None
                continue
            if held is not None:
                held[str(annotation.get("id"))] = bool(annotation.get("was_cancelled"))
            annotator = annotator_name(annotation.get("completed_by"), users or {})
            planned = plan_annotation(exported, annotation, annotator, by_id, plan)
            if planned is not None:
                plan.planned.append(planned)
        plan.tasks[task] = held
    plan.planned[:] = hold_for_drafts(last_changed(plan.planned, plan.notes), plan)
    return plan


def latest_change(exported_tasks: list[dict]) -> str | None:
    """When Label Studio last changed anything the file holds (None where it gives no time)."""
    annotations = [annotation for task in exported_tasks if isinstance(task.get("annotations"), list)
                   for annotation in task["annotations"] if isinstance(annotation, dict)]
    return max(filter(None, map(time_if_readable, exported_tasks + annotations)), default=None)


def plan_annotation(exported: dict, annotation: dict, annotator: str, by_id: dict[str, ReviewBatch],
                    plan: ImportPlan) -> Planned | None:
    """The annotation as a planned decision, or None with the reason in `plan.skipped`."""
    where = f"task {exported.get('id')} annotation {annotation.get('id')}"
    cancelled = bool(annotation.get("was_cancelled"))
    try:
        decision, note = (skip_decision if cancelled else annotation_decision)(exported, annotation)
        at = annotation_time(annotation)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        plan.skipped.append(f"{where}: {unusable_because(error)}")
        plan.unusable.append(Unusable((exported.get("data") or {}).get("pair_id"), annotator,
                                      str(annotation.get("id")), time_if_readable(annotation), where))
        return None
    batch = by_id.get(decision.batch_id)
    if (cancelled and not is_unnamed(annotator)
            and (batch is None or decision.pair_id not in batch.manifest.pairs_for(annotator))):
        # Label Studio shows every task to everyone: a skip of a pair not theirs decides nothing
        # (an unnamed user's skip may be of their own pair: that one is named, with the --user hint)
        return None
    if batch is None or decision.pair_id not in batch.items:
        plan.skipped.append(f"{where}: pair {decision.pair_id} is in no batch of this run")
        return None
    if decision.pair_id not in batch.manifest.pairs_for(annotator):
        plan.skipped.append(f"{where}: pair {decision.pair_id} is not assigned to {annotator} "
                            "(name the Label Studio user with --user ID_OR_EMAIL=NAME)")
        return None
    if note:
        plan.notes.append(f"{where}: {note}")
    return Planned(decision, batch.items[decision.pair_id], annotator, where, at, cancelled,
                   str(annotation.get("id")), str(exported.get("id")))


def last_changed(planned: list[Planned], notes: list[str]) -> list[Planned]:
    """Each annotator's annotation on a pair that Label Studio changed last (the file's order where
    the export gives no times), oldest first, so the store's events follow Label Studio's times.
    An annotator with several annotations on one task (skips too) is noted: only one of them counts."""
    by_key: dict[tuple[str, str], list[Planned]] = {}
    for plan in sorted(planned, key=lambda plan: plan.at or ""):  # stable: file order among equals
        by_key.setdefault((plan.decision.pair_id, plan.annotator), []).append(plan)
    for (_, annotator), plans in by_key.items():
        if len(plans) > 1:
            notes.append(f"{plans[-1].where}: {annotator} has {len(plans)} annotations on this task; only "
                         f"this one{' (a skip)' * plans[-1].cancelled}, changed last "
                         f"({plans[-1].at or 'no time in the export'}), counts")
    return sorted((plans[-1] for plans in by_key.values()), key=lambda plan: plan.at or "")


def hold_for_drafts(planned: list[Planned], plan: ImportPlan) -> list[Planned]:
    """The decisions no draft holds back. An annotator's unsubmitted draft newer than their counted
    annotation is their later word, never submitted: their annotation is refused as one the import
    cannot use (named; an earlier imported decision it is newer than is withdrawn), so the older
    verdict does not ship. Drafts listed by id only (a snapshot export) cannot be told newer, nor
    whose: every decision on their task is held back, and an earlier imported one stands."""
    kept, unread = [], {}
    for each in planned:
        drafts = plan.drafts.get(each.task, [])
        if any(draft.annotator is None for draft in drafts):
            unread.setdefault(each.task, []).append(f"{each.annotator}'s {each.decision.action} (annotation "
                                                    f"{each.annotation})")
            continue
        draft = newer_draft(drafts, each.annotator, each.annotation, each.at)
        if draft is None:
            kept.append(each)
            continue
        plan.skipped.append(held_by_draft(each.where, each.annotator, each.decision.action, draft))
        plan.unusable.append(Unusable(each.decision.pair_id, each.annotator, each.annotation, draft.at, each.where))
    plan.skipped.extend(held_by_unread_drafts(task, held, plan.drafts[task]) for task, held in unread.items())
    return kept


@contextmanager
def import_lock(store: ReviewStore, run_id: str):
    """Held while an import records the run's decisions. Two at once would each compare with the same
    last decisions: one stops part-way on the request id both make, or an older export's word lands
    after a newer one's. The lock is beside the store: whoever may write the store may make it."""
    def busy(holder: str) -> ValueError:
        return ValueError(f"another Label Studio import of {run_id} is running"
                          f"{f' (pid {holder})' if holder else ''}: wait for it to end, then run this one again")

    with exclusive_lock(store.path.parent / f".labelstudio-import.{run_id}.lock", busy):
        yield


@dataclass(frozen=True)
class ImportOutcome:
    added: int  # new events (a re-import records nothing)
    refused: list[str]  # edits that fail their checks (or are too long), and annotations older than the
                        # annotator's app decision since, naming their task
    stale: list[str] = field(default_factory=list)  # annotations older than the annotator's Label Studio
                                                     # event recorded on the pair (an older export)
    unusable: list[Unusable] = field(default_factory=list)  # the edits refused for their check


def import_export(planned: list[Planned], store: ReviewStore, scorer: EditScorer) -> ImportOutcome:
    """Record the planned decisions that differ from the last one each annotator's Label Studio
    imports recorded on the pair: a re-import records nothing (and does not undo a decision made
    in the review app since), a decision changed in Label Studio (even back to an earlier one) is
    new, unless it is older than the annotator's last Label Studio event there (an older export:
    it is named in `stale`). Each event is stamped with the time Label Studio last changed its
    annotation. An edit is checked as the review app checks it; one that leaks or fails the harm
    check would need an override reason, which a Label Studio annotation cannot carry, so it is
    refused and named."""
    if not planned:
        return ImportOutcome(0, [])
    run_id = planned[0].item.run_id
    added = 0  # this import's own events, not the app's or another import's meanwhile
    imported = {(event.pair_id, event.annotator): event for event in store.latest_from(SOURCE, run_id=run_id)}
    current = {(event.pair_id, event.annotator): event for event in store.current(run_id=run_id)}
    refused, stale, unusable = [], [], []
    for plan in planned:
        decision, previous = plan.decision, imported.get((plan.decision.pair_id, plan.annotator))
        if unchanged_since(previous, decision):
            continue
        if plan.cancelled and previous is not None:
            continue  # a skip in place of an imported decision: `withdraw_missing` withdraws it, naming why
        if previous is not None and plan.at is not None and previous.at >= plan.at:
            # an older export than one imported before: recording it would revert the annotator's
            # later decision, or bring back one withdrawn since (a withdrawal keeps its decision's time)
            stale.append(f"{plan.where}: {'older' if previous.at > plan.at else 'no newer'} ({plan.at}) than "
                         f"{plan.annotator}'s Label Studio decision of {previous.at}, which stands")
            continue
        later = current.get((decision.pair_id, plan.annotator))
        if later_elsewhere(later, SOURCE, plan.at):  # spares an edit's check; `append` checks it again
            refused.append(app_decision_stands(plan, later))
            continue
        refusal = edit_refusal(plan.item, decision.edited_query) if decision.action == "edit" else None
        checked = decision.action == "edit" and not refusal
        check = scorer.check(plan.item, decision.edited_query) if checked else None
        if check is not None and not check.passes:
            refusal = (f"the edit fails its check ({'; '.join(check.problems)}); to keep it, decide it in the "
                       "review app with an override reason")
        if refusal:
            refused.append(f"{plan.where}: {refusal}")
            ids = annotation_ids(decision.request_id, run_id, decision.pair_id)
            unusable.append(Unusable(decision.pair_id, plan.annotator, ids.annotation if ids else "", plan.at,
                                     plan.where))
            continue
        # unique per change of this annotator's decision on this pair, and the same if an import
        # killed half-way is run again
        request_id = f"{decision.request_id}:{run_id}:{decision.pair_id}:after-{previous.id if previous else 0}"
        try:  # the store keeps the decision recorded last: one made in the app meanwhile must stand
            _, new = store.append(decision.model_copy(update={"request_id": request_id}), annotator=plan.annotator,
                                  run_id=run_id, source=SOURCE, check=check, at=plan.at, keep_later=True)
        except LaterDecision as later:
            refused.append(app_decision_stands(plan, later.current))
            continue
        added += new
    return ImportOutcome(added, refused, stale, unusable)


def app_decision_stands(plan: Planned, later: Event) -> str:
    """An older annotation must not undo the annotator's own decision made in the app since."""
    return (f"{plan.where}: older ({plan.at}) than {plan.annotator}'s decision in the review app ({later.at}), "
            "which stands")


def unchanged_since(previous: Event | None, decision: DecisionIn) -> bool:
    """Whether an annotation is the decision this annotator's Label Studio imports last recorded on
    the pair: the same verdict, reason and edit, read as one line (an edit recorded before edits were
    normalised, with a line break, is the same edit)."""
    return previous is not None and (previous.action, previous.reason) == (decision.action, decision.reason) \
        and same_query(previous.edited_query, decision.edited_query)
