"""What a Label Studio export holds beside the annotations, which the import does not record: drafts,
and comments.

Label Studio's editor saves a draft as an annotator works: on a task they have not submitted, or on
their submitted annotation when they reopen and change it; it becomes the annotation only when they
press Submit (or Update). A draft still in the export was never submitted: Label Studio deletes a draft
when its annotation is saved. The annotator sees it again when they reopen the task, so they believe it
is saved. The project's Export -> JSON holds drafts in full; an export snapshot made through the API
lists only their ids unless asked for them in full (`"drafts": {"only_id": false}`).

Comments exist in Label Studio Enterprise (the Community edition pinned here has no comments backend);
an export gives only their counts per task, which is what the import can point at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.review.labelstudio_annotations import result_summary, time_if_readable
from pipeline.review.labelstudio_users import annotator_name

IN_FULL = ("export the project with its drafts in full (Label Studio's Export -> JSON, or an export snapshot "
           "with \"drafts\": {\"only_id\": false}) and import again")


@dataclass(frozen=True)
class Draft:
    id: str
    annotator: str | None  # None: the export lists the draft by id only (whose, when and what are unknown)
    annotation: str | None = None  # the submitted annotation it changes; None: a draft of a new one
    at: str | None = None  # when Label Studio last saved it
    says: str | None = None  # its result in words; None: nothing chosen


def task_drafts(exported: dict, users: dict[str, str]) -> list[Draft]:
    """The task's drafts (an export without the field has none)."""
    drafts = exported.get("drafts")
    return [read_draft(entry, users) for entry in drafts] if isinstance(drafts, list) else []


def read_draft(entry: object, users: dict[str, str]) -> Draft:
    if not isinstance(entry, dict):
        return Draft(str(entry), None)
    annotation = entry.get("annotation")
    return Draft(str(entry.get("id")), draft_author(entry, users), None if annotation is None else str(annotation),
                 time_if_readable(entry), result_summary(entry))


def draft_author(entry: dict, users: dict[str, str]) -> str:
    """Our name for the draft's user. Label Studio writes the user's e-mail (`user`) and, last in
    `created_username`, their id ("Ann Lee ann@example.org, 7"); as for an annotation, the e-mail only
    matches a `--user` mapping."""
    user = entry.get("user")
    found = re.search(r",\s*(\d+)\s*$", str(entry.get("created_username") or ""))
    user_id = found.group(1) if found else (str(user) if str(user).isdigit() else None)
    return annotator_name({"id": user_id, "email": user if isinstance(user, str) else None}, users)


def newer_draft(drafts: list[Draft], annotator: str, annotation: str, at: str | None) -> Draft | None:
    """The annotator's latest draft that is newer than their counted annotation (`annotation`, last
    changed `at`): a draft of that annotation (it would have been deleted had the annotation been saved
    after it), or one saved later; one that cannot be shown to be older counts as newer."""
    newer = [draft for draft in drafts if draft.annotator == annotator and (
        draft.annotation == annotation or draft.at is None or at is None or draft.at > at)]
    return max(newer, key=lambda draft: draft.at or "", default=None)


def held_by_draft(where: str, annotator: str, action: str, draft: Draft) -> str:
    return (f"{where}: {annotator}'s {action} is not used: {annotator} has an unsubmitted draft newer than it "
            f"({draft.says or 'nothing chosen'}, {draft.at or 'no time in the export'}): have them submit it in "
            "Label Studio (Update, or Submit), or decide the pair in the review app")


def held_by_unread_drafts(task: str, held: list[str], drafts: list[Draft]) -> str:
    """One line for a task whose drafts the export lists by id only: whose they are and whether they are
    newer than the decisions `held` cannot be told."""
    ids = ", ".join(draft.id for draft in drafts if draft.annotator is None)
    return (f"task {task}: Label Studio holds unsubmitted draft(s) (id {ids}) that this export lists by id only, "
            f"so whether one is newer than {', '.join(held)} cannot be told: not used (a decision an earlier "
            f"import recorded stands); {IN_FULL}")


def unrecorded_notes(exported: dict, drafts: list[Draft], users: dict[str, str]) -> list[str]:
    """A note for each thing on the task that the import cannot record and a person should read."""
    return draft_only_notes(exported, drafts, users) + unresolved_comments(exported)


def unresolved_comments(exported: dict) -> list[str]:
    """A note for a task with unresolved comments: one may say "this image is wrong, reject" beside
    an accept, and comments are not imported."""
    count = exported.get("unresolved_comment_count")
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        return []
    them = "them" if count > 1 else "it"
    return [f"task {exported.get('id')} has {count} unresolved comment{'s' * (count > 1)} in Label Studio: comments "
            f"are not imported; read {them} there before trusting the task's decisions (a decision to change is "
            "changed in Label Studio or the review app)"]


def draft_only_notes(exported: dict, drafts: list[Draft], users: dict[str, str]) -> list[str]:
    """A note per user whose only work on the task is a draft: nothing of theirs is recorded, and the lead
    should chase the submit rather than reassign the pair. Drafts listed by id only are noted where the
    task has no annotation (beside one, `held_by_unread_drafts` names them)."""
    annotations = exported.get("annotations")
    annotations = [a for a in annotations if isinstance(a, dict)] if isinstance(annotations, list) else []
    authors = {annotator_name(annotation.get("completed_by"), users) for annotation in annotations}
    latest: dict[str, Draft] = {}
    for draft in sorted(drafts, key=lambda draft: draft.at or ""):
        if draft.annotator is not None and draft.annotator not in authors:
            latest[draft.annotator] = draft
    task = exported.get("id")
    notes = [f"task {task}: {annotator} has an unsubmitted draft ({draft.says or 'nothing chosen'}, "
             f"{draft.at or 'no time in the export'}) and no submitted annotation, so nothing of theirs is "
             "recorded: have them submit it in Label Studio" for annotator, draft in sorted(latest.items())]
    unread = [draft.id for draft in drafts if draft.annotator is None]
    if unread and not annotations:
        notes.append(f"task {task}: Label Studio holds unsubmitted draft(s) (id {', '.join(unread)}) that this "
                     "export lists by id only, so nothing of them is recorded: have their annotator submit them in "
                     "Label Studio (to see whose they are, export the project with its drafts in full)")
    return notes
