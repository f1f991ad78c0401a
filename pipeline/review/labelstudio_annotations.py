"""One Label Studio annotation read as a review decision, and when Label Studio last changed it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pydantic import ValidationError

from pipeline.review.decisions import DecisionIn, one_line_query, same_query

# Label Studio's clock may run a little ahead of ours; a time later than this is not one it wrote,
# and would outrank every decision made since (the store keeps the latest).
CLOCK_SKEW = timedelta(minutes=5)


def result_values(annotation: dict) -> dict[str, list[str]]:
    """Each control's chosen values or texts; a ValueError for a result that is not Label Studio's shape."""
    results = annotation.get("result", [])
    if not isinstance(results, list):
        raise ValueError("result is not a list")
    values: dict[str, list[str]] = {}
    for result in results:
        value = result.get("value") if isinstance(result, dict) else None
        if not isinstance(value, dict):
            raise ValueError("a result without a value object")
        chosen = value.get("choices") or value.get("text") or []
        if not (isinstance(chosen, list) and all(isinstance(entry, str) for entry in chosen)):
            raise ValueError(f"{result.get('from_name')}: expected a list of strings, not {chosen!r:.60}")
        values[result.get("from_name")] = chosen
    return values


def annotation_decision(exported: dict, annotation: dict) -> tuple[DecisionIn, str | None]:
    """One annotation as a review decision (its request id is completed when it is recorded), and a
    note when part of it was not used."""
    values = result_values(annotation)
    data = exported["data"]
    verdict = (values.get("verdict") or [None])[0]
    edited = one_line_query((values.get("edited_query") or [""])[0])
    changed = bool(edited) and not same_query(edited, data["query"])
    note = None
    if verdict in (None, "accept") and changed:
        action = "edit"  # an edit counts as accept, with or without the verdict ticked
    elif verdict is None:
        action = "skip"
    else:
        action = verdict
        if changed:
            note = "the edited query was not used: the verdict is reject"
    decision = DecisionIn(batch_id=data["batch_id"], pair_id=data["pair_id"], action=action,
                          reason=(values.get("reason") or [None])[0],
                          edited_query=edited if action == "edit" else None,
                          request_id=f"labelstudio:{exported.get('id')}:{annotation.get('id')}:"
                                     f"{exported.get('project')}")
    return decision, note


def skip_decision(exported: dict, annotation: dict) -> tuple[DecisionIn, str | None]:
    """A cancelled annotation (Label Studio's Skip) as the annotator's skip, as the review app records
    one, and a note naming the verdict that was on screen: a skip carries it, but it was not submitted."""
    data = exported["data"]
    decision = DecisionIn(batch_id=data["batch_id"], pair_id=data["pair_id"], action="skip",
                          request_id=f"labelstudio:{exported.get('id')}:{annotation.get('id')}:"
                                     f"{exported.get('project')}")
    says = result_summary(annotation)
    return decision, (f"a skip (the annotation is cancelled); what was on screen ({says}) was not used"
                      if says else None)


def result_summary(annotation: dict) -> str | None:
    """What a result chose, in words ("reject: low_quality", "edit 'how ...?'"); None where it chose
    nothing (or cannot be read: it is not used either way)."""
    try:
        values = result_values(annotation)
    except (ValueError, AttributeError):
        return None
    verdict, reason = (values.get("verdict") or [None])[0], (values.get("reason") or [None])[0]
    edited = one_line_query((values.get("edited_query") or [""])[0])
    words = [f"{verdict}: {reason}" if verdict and reason else verdict] + [f"edit {edited[:60]!r}"] * bool(edited)
    return ", ".join(filter(None, words)) or None


@dataclass(frozen=True)
class AnnotationIds:
    task: str
    annotation: str
    project: str | None  # None: recorded before the project was kept


def annotation_ids(request_id: str | None, run_id: str, pair_id: str) -> AnnotationIds | None:
    """The Label Studio ids an imported event's request id keeps (`labelstudio:TASK:ANNOTATION[:PROJECT]`,
    then the run, the pair and the event it followed); None for one that keeps none. The first imports
    kept the annotation's time where the project is now (`labelstudio:TASK:ANNOTATION:2026-01-01T00:00:00Z`,
    colons and all): their project is unknown."""
    head = (request_id or "").partition(f":{run_id}:{pair_id}:after-")[0].split(":")
    if head[0] != "labelstudio" or len(head) < 3:
        return None
    project = head[3] if len(head) == 4 and (head[3].isdigit() or head[3] == "None") else None
    return AnnotationIds(head[1], head[2], project)


def annotation_time(annotation: dict) -> str | None:
    """When the annotation was last changed in Label Studio (`updated_at`, else `created_at`), in
    UTC as the store writes times; None where the export gives neither. A time in the future is refused."""
    stamp = annotation.get("updated_at") or annotation.get("created_at")
    if stamp is None:
        return None
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        raise ValueError(f"updated_at {stamp!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # Label Studio keeps its times in UTC
    if moment > datetime.now(timezone.utc) + CLOCK_SKEW:
        raise ValueError(f"updated_at {stamp!r} is in the future" +
                         (" (a time without a zone is read as UTC)" if str(stamp)[-1:].isdigit() else ""))
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def unusable_because(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())
    if isinstance(error, ValueError):
        return str(error)
    return f"not a review annotation ({error!r})"


def time_if_readable(annotation: dict) -> str | None:
    try:
        return annotation_time(annotation)
    except ValueError:
        return None
