"""Earlier Label Studio decisions that an export no longer says, withdrawn (recorded as the
annotator's skip): an annotation gone or cancelled, or changed into one the import refuses. A file
that cannot be shown to be newer than a decision withdraws nothing of it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeline.review.decision_conflicts import DecisionChanged
from pipeline.review.decisions import DecisionIn, Event
from pipeline.review.labelstudio_annotations import AnnotationIds, annotation_ids
from pipeline.review.labelstudio_import import SOURCE, ImportPlan, Planned, Unusable
from pipeline.review.labelstudio_unrecorded import Draft
from pipeline.review.store import ReviewStore


def superseded_withdrawal(unusable: list[Unusable], store: ReviewStore, run_id: str,
                          planned: list[Planned] = ()) -> Withdrawal:
    """Withdraw each imported decision that Label Studio has since replaced with an annotation the
    import refuses (a leaky edit, a reject without a reason): it no longer says what the annotator
    says there, so it must not keep counting, and the pair is the review app's to decide. It stays
    if the annotator decided the pair in the review app since, or if a usable annotation of theirs
    on the pair (`planned`) is newer than the refused one: that one is their word. An app decision
    saved while the import ran is named (`unchecked`): the import meant to withdraw under it."""
    usable_at = {(plan.decision.pair_id, plan.annotator): plan.at for plan in planned}
    imported = {(event.pair_id, event.annotator): event for event in store.latest_from(SOURCE, run_id=run_id)}
    current = {(event.pair_id, event.annotator): event.id for event in store.current(run_id=run_id)}
    withdrawn, decided_since = [], []
    for refused in unusable:
        key = (refused.pair_id, refused.annotator)
        previous = imported.get(key)
        if previous is None or previous.action == "skip" or current.get(key) != previous.id:
            continue
        if not replaces(refused, previous) or newer(usable_at.get(key), refused.at):
            continue
        earlier = f"{refused.where}: {refused.annotator}'s earlier {previous.action} of pair {refused.pair_id}"
        try:
            imported[key] = withdraw(previous, store)
        except DecisionChanged as changed:  # decided in the review app since `current` was read
            decided_since.append(decided_meanwhile(earlier, previous, changed.current))
            continue
        withdrawn.append(f"{earlier} is withdrawn: their changed annotation cannot be used (its warning "
                         "says why); decide the pair in the review app")
    return Withdrawal(withdrawn, decided_since)


def replaces(refused: Unusable, previous: Event) -> bool:
    """The refused annotation is the annotator's word since the recorded decision: changed after it,
    or, where the export gives no time, the recorded annotation itself, changed."""
    if refused.at is not None:
        return refused.at > previous.at
    ids = annotation_ids(previous.request_id, previous.run_id, previous.pair_id)
    return ids is not None and ids.annotation == refused.annotation


def newer(at: str | None, than: str | None) -> bool:
    return at is not None and than is not None and at > than


@dataclass(frozen=True)
class Withdrawal:
    withdrawn: list[str]  # earlier imported decisions gone from Label Studio, now recorded as skips
    unchecked: list[str]  # earlier imported decisions that stand, named: batches and tasks the file cannot
                          # judge, and decisions the annotator changed in the review app while it ran
    older: list[str] = field(default_factory=list)  # decisions missing from a file no newer than them


def withdraw_missing(plan: ImportPlan, store: ReviewStore, run_id: str) -> Withdrawal:
    """Withdraw each earlier imported decision whose own annotation the export no longer holds, or
    holds cancelled, or that a later skip of the annotator's on the task replaces: Label Studio no
    longer says it, so it must not keep the pair accepted or rejected. It is recorded as the annotator's skip, unless they decided the pair in the review app
    since, or their annotation this file holds on the pair was just imported. The annotation is
    judged by its ids: only in the file's copy of its task, or, where its whole task is gone, in an
    export of its project; an annotation of a user the import cannot name is still there. A batch
    missing from the file entirely, and decisions on tasks of another project, are named instead.
    So is a decision the file cannot be shown to be newer than (nothing in it as late as the
    decision's Label Studio time): an older download lacks it, and must not withdraw it."""
    current = {(event.pair_id, event.annotator): event.id for event in store.current(run_id=run_id)}
    imported_now = {(plan.decision.pair_id, plan.annotator) for plan in plan.planned if not plan.cancelled}
    skips = {(skip.decision.pair_id, skip.annotator): skip for skip in plan.planned if skip.cancelled}
    withdrawn, unchecked, elsewhere, older, decided_since = [], set(), Counter(), [], []
    for previous in store.latest_from(SOURCE, run_id=run_id):
        key = (previous.pair_id, previous.annotator)
        if previous.action == "skip" or key in imported_now:
            continue
        if previous.batch_id not in plan.batches:
            unchecked.add(previous.batch_id)
            continue
        ids = annotation_ids(previous.request_id, run_id, previous.pair_id)
        gone = gone_from(plan, ids, previous) or skipped_since(skips.get(key), previous, ids)
        if gone is None:
            if ids is None or ids.task not in plan.tasks:
                elsewhere[previous.batch_id] += 1
            continue
        if current.get(key) != previous.id:
            continue
        if newer(previous.at, plan.latest):
            older.append(f"task {ids.task} annotation {ids.annotation}: {previous.annotator}'s {previous.action} of "
                         f"pair {previous.pair_id} ({previous.at}) is not in the file, but nothing in the file is as "
                         f"late (its latest change: {plan.latest}): an older download? The decision stands; import "
                         "the project's latest export (if it was deleted in Label Studio, decide the pair in the "
                         "review app)")
            continue
        try:
            withdraw(previous, store)
        except DecisionChanged as changed:
            decided_since.append(decided_meanwhile(f"task {ids.task} annotation {ids.annotation}: "
                                                   f"{previous.annotator}'s {previous.action} of pair "
                                                   f"{previous.pair_id}", previous, changed.current))
            continue
        withdrawn.append(f"task {ids.task} annotation {ids.annotation}: {previous.annotator}'s {previous.action} "
                         f"of pair {previous.pair_id} is withdrawn: {gone}")
    return Withdrawal(withdrawn, [f"batch {batch}: earlier Label Studio decisions, but no task of it in the "
                                  "file; they stand (if its tasks were deleted, decide them in the review app)"
                                  for batch in sorted(unchecked)] + [
        f"batch {batch}: {count} earlier Label Studio decision(s) on tasks this file does not hold (another "
        "Label Studio project's?); they stand (if their tasks were deleted, decide them in the review app)"
        for batch, count in sorted(elsewhere.items())] + decided_since, older)


def gone_from(plan: ImportPlan, ids: AnnotationIds | None, previous: Event) -> str | None:
    """Why the export says this annotation (`previous`'s) is no longer there; None where it does not say so."""
    if ids is None:
        return None  # an event that kept no ids: nothing in the file can be matched with it
    if ids.task in plan.tasks:
        held = plan.tasks[ids.task]
        if held is None or held.get(ids.annotation) is False:
            return None
        if held.get(ids.annotation):
            return "its annotation was skipped (cancelled) in Label Studio"
        return turned_into_draft(plan.drafts.get(ids.task, []), previous) or \
            "its annotation is no longer in Label Studio's export"
    if ids.project in plan.projects:  # task ids are Label Studio's, unique across its projects
        return "its task is no longer in Label Studio's export"
    return None


def turned_into_draft(drafts: list[Draft], previous: Event) -> str | None:
    """How a gone annotation was turned back into a draft (Label Studio's convert-to-draft deletes it and
    saves its result as a draft of no annotation), where the export shows that: the annotator's draft of
    no annotation, saved since the decision. None where it does not show it (drafts listed by id only)."""
    since = [draft for draft in drafts if draft.annotator == previous.annotator and draft.annotation is None
             and (draft.at is None or draft.at >= previous.at)]
    if not since:
        return None
    draft = max(since, key=lambda draft: draft.at or "")
    return (f"its annotation was turned back into a draft in Label Studio (draft {draft.id}, "
            f"{draft.at or 'no time in the export'}); it counts again once submitted")


def skipped_since(skip: Planned | None, previous: Event, ids: AnnotationIds | None) -> str | None:
    """Why the annotator's later skip on the task, in another annotation than the decision's (a second
    annotation tab), replaces the decision: the one changed last counts; None where there is none."""
    if skip is None or ids is None or skip.annotation == ids.annotation or not (skip.at is None or
                                                                              skip.at > previous.at):
        return None
    return (f"their later annotation on the task ({skip.annotation}, {skip.at or 'no time in the export'}) "
            "was skipped (cancelled) in Label Studio")


def decided_meanwhile(decision: str, previous: Event, current: Event | None) -> str:
    """Why `decision` (where it is and what it said) stands: the annotator decided the pair in the
    review app after the import read the current decisions."""
    since = f" ({current.summary()}, {current.at})" if current else ""
    return (f"{decision} is not withdrawn: {previous.annotator} decided the pair in the review app "
            f"since{since}, which stands")


def withdraw(previous: Event, store: ReviewStore) -> Event:
    """The annotator's skip in place of an imported decision Label Studio no longer says. It keeps that
    decision's Label Studio time: stamped with this machine's clock, it would make every annotation
    made in Label Studio before the import ran (and after its export) read as older, refused for good.
    DecisionChanged where `previous` is no longer the annotator's current decision: checked under the
    store's write lock as the skip is written, a decision made in the review app meanwhile stands."""
    return store.record(DecisionIn(batch_id=previous.batch_id, pair_id=previous.pair_id, action="skip",
                                   request_id=f"{SOURCE}-withdrawn:{previous.run_id}:{previous.pair_id}:"
                                              f"after-{previous.id}"),
                        annotator=previous.annotator, run_id=previous.run_id, source=SOURCE, at=previous.at,
                        shown=previous.id)
