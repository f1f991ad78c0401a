"""Label Studio interop: review batches as Label Studio tasks plus a labelling config, and Label
Studio JSON exports back into the review store.

Images go as URLs (by default Label Studio's local-files storage), never inlined. The
pipeline's verdict is pre-selected only when asked (`prefill="model"`). Label Studio
checks a task's `$variables` but not the contents of predictions, so `check_tasks`
verifies our from_name / to_name / choices against the config. On import, an
annotation that is not a usable decision is reported with its task and skipped; the
rest are recorded.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from pipeline.review.batches import ReviewBatch, ReviewItem
from pipeline.review.scoring import EditScorer, edit_too_long
from pipeline.review.store import REASONS, DecisionIn, ReviewStore

Prefill = Literal["none", "model"]
SOURCE = "labelstudio"  # the events an import records
# Label Studio's local-files storage serves `?d=<path under its document root>`; with the
# document root set to the folder holding tasks.json, the images are at images/<file>.
DEFAULT_IMAGE_URL_PREFIX = "/data/local-files/?d=images/"
CHOICE_LINES = "\n".join(f'    <Choice value="{reason}"/>' for reason in REASONS)
# The reason shows, and is required, only once "reject" is chosen: a reject without a reason
# cannot be submitted from Label Studio's editor (the import still checks, for API clients).
LABEL_CONFIG = f"""<View>
  <Image name="image" value="$image"/>
  <Header value="Query"/>
  <Text name="query" value="$query"/>
  <Header value="Image description"/>
  <Text name="description" value="$description"/>
  <Header value="Category"/>
  <Text name="category" value="$category"/>
  <Header value="Verdict (an edited query counts as accept)"/>
  <Choices name="verdict" toName="query" choice="single" showInline="true" required="true">
    <Choice value="accept"/>
    <Choice value="reject"/>
  </Choices>
  <Choices name="reason" toName="query" choice="single" showInline="true" required="true"
           requiredMessage="A reject needs a reason." visibleWhen="choice-selected"
           whenTagName="verdict" whenChoiceValue="reject">
{CHOICE_LINES}
  </Choices>
  <TextArea name="edited_query" toName="query" editable="true" maxSubmissions="1"
            placeholder="Edited query (leave empty to keep the query)"/>
</View>
"""


@dataclass(frozen=True)
class Control:
    tag: str
    to_name: str
    choices: tuple[str, ...]


def parse_config(xml: str) -> tuple[dict[str, Control], set[str]]:
    """The config's control tags by name, and the `$variables` its object tags read."""
    root = ET.fromstring(xml)
    controls = {node.get("name"): Control(node.tag, node.get("toName", ""),
                                          tuple(choice.get("value") for choice in node.iter("Choice")))
                for node in root.iter() if node.get("toName")}
    variables = {node.get("value")[1:] for node in root.iter()
                 if node.get("name") and (node.get("value") or "").startswith("$")}
    return controls, variables


def task(item: ReviewItem, image_url: str, prefill: Prefill = "none") -> dict:
    """One pair as a task. With prefill "model" the pipeline's verdict is a prediction the
    annotator sees pre-selected; by default nothing is pre-selected (no rubber-stamping)."""
    data = {"image": image_url, "query": item.instruction, "description": item.image_description,
            "category": f"{item.category} / {item.sub_category}", "pair_id": item.pair_id,
            "batch_id": item.batch_id, "run_id": item.run_id, "leak_score": item.leak_score,
            "leak_text_harm": item.leak_text_harm, "leak_reveal": item.leak_reveal, "leak_code": item.leak_code}
    if prefill == "none":
        return {"data": data}
    verdict = "accept" if item.pipeline_verdict == "keep" else "reject"
    # no `score`: the leak score is not a confidence in the verdict; it travels in data
    return {"data": data, "predictions": [{
        "model_version": item.detector_version or "unknown",
        "result": [{"from_name": "verdict", "to_name": "query", "type": "choices",
                    "value": {"choices": [verdict]}}]}]}


def check_tasks(tasks: list[dict], xml: str = LABEL_CONFIG) -> None:
    """Raise ValueError on the first task that the labelling config would not match."""
    controls, variables = parse_config(xml)
    for number, item in enumerate(tasks):
        missing = variables - set(item["data"])
        if missing:
            raise ValueError(f"task {number}: data lacks {sorted(missing)} that the config reads")
        for prediction in item.get("predictions", []):
            for result in prediction["result"]:
                control = controls.get(result["from_name"])
                if control is None or control.to_name != result["to_name"]:
                    raise ValueError(f"task {number}: no control {result['from_name']} -> {result['to_name']}")
                unknown = set(result["value"].get("choices", [])) - set(control.choices)
                if unknown:
                    raise ValueError(f"task {number}: choices {sorted(unknown)} are not in {result['from_name']}")


@dataclass(frozen=True)
class TaskExport:
    tasks: list[dict]
    images: dict[str, Path]  # file name under images/ -> the run's image file


def export_tasks(batches: list[ReviewBatch], image_url_prefix: str = DEFAULT_IMAGE_URL_PREFIX,
                 prefill: Prefill = "none") -> TaskExport:
    """Tasks whose images are URLs (`prefix + file name`), and the files to put behind them."""
    tasks, images = [], {}
    for batch in batches:
        for item in batch.items.values():
            source = batch.run_dir / item.image
            images[source.name] = source
            tasks.append(task(item, image_url_prefix + source.name, prefill))
    check_tasks(tasks)
    return TaskExport(tasks, images)


def check_export(exported: object) -> list[dict]:
    """The file is a Label Studio JSON export of our tasks, or a ValueError says why not."""
    if not isinstance(exported, list) or not exported:
        raise ValueError("expected a Label Studio JSON export: a non-empty list of tasks")
    for number, exported_task in enumerate(exported, start=1):
        data = exported_task.get("data") if isinstance(exported_task, dict) else None
        if not isinstance(data, dict) or not {"pair_id", "batch_id", "query"} <= set(data):
            raise ValueError(f"task {number} of the list is not one of ours (expected a Label Studio "
                             "JSON export of `review labelstudio-export` tasks, with data.pair_id, "
                             "data.batch_id and data.query)")
    return exported


def annotator_name(completed_by, users: dict[str, str]) -> str:
    """Our name for a Label Studio user; `users` maps a user id (as text) or an e-mail to it.
    Exports give `completed_by` as a bare id, older ones as {id, email}."""
    if isinstance(completed_by, dict):
        user_id, email = completed_by.get("id"), completed_by.get("email")
    else:
        user_id, email = completed_by, None
    for key in (str(user_id), email):
        if key is not None and key in users:
            return users[key]
    return email or f"labelstudio-user-{user_id}"


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
    edited = (values.get("edited_query") or [""])[0].strip()
    changed = bool(edited) and edited != data["query"]
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
                          request_id=f"labelstudio:{exported.get('id')}:{annotation.get('id')}")
    return decision, note


@dataclass(frozen=True)
class Planned:
    decision: DecisionIn
    item: ReviewItem
    annotator: str
    where: str  # the task and annotation, for messages


@dataclass(frozen=True)
class ImportPlan:
    planned: list[Planned]
    skipped: list[str]  # an annotation that is not a usable decision, naming its task
    notes: list[str]  # an annotation recorded, but not all of it used


def plan_import(exported_tasks: list[dict], batches: list[ReviewBatch],
                users: dict[str, str] | None = None) -> ImportPlan:
    """A decision per usable, non-cancelled annotation; a line per one skipped or partly used.
    As in the review app, an annotator decides only the pairs assigned to them."""
    by_id = {batch.manifest.batch_id: batch for batch in batches}
    plan = ImportPlan([], [], [])
    for exported in exported_tasks:
        annotations = exported.get("annotations", [])
        if not isinstance(annotations, list):
            plan.skipped.append(f"task {exported.get('id')}: annotations is not a list")
            continue
        for annotation in annotations:
            if not isinstance(annotation, dict):
                plan.skipped.append(f"task {exported.get('id')}: an annotation that is not an object")
                continue
            where = f"task {exported.get('id')} annotation {annotation.get('id')}"
            if annotation.get("was_cancelled"):
                continue
            try:
                decision, note = annotation_decision(exported, annotation)
            except ValidationError as error:
                plan.skipped.append(f"{where}: " + "; ".join(
                    e["msg"].removeprefix("Value error, ") for e in error.errors()))
                continue
            except ValueError as error:
                plan.skipped.append(f"{where}: {error}")
                continue
            except (KeyError, TypeError, AttributeError) as error:
                plan.skipped.append(f"{where}: not a review annotation ({error!r})")
                continue
            batch = by_id.get(decision.batch_id)
            if batch is None or decision.pair_id not in batch.items:
                plan.skipped.append(f"{where}: pair {decision.pair_id} is in no batch of this run")
                continue
            annotator = annotator_name(annotation.get("completed_by"), users or {})
            if decision.pair_id not in batch.manifest.pairs_for(annotator):
                plan.skipped.append(f"{where}: pair {decision.pair_id} is not assigned to {annotator} "
                                    "(name the Label Studio user with --user ID_OR_EMAIL=NAME)")
                continue
            if note:
                plan.notes.append(f"{where}: {note}")
            plan.planned.append(Planned(decision, batch.items[decision.pair_id], annotator, where))
    return plan


@dataclass(frozen=True)
class ImportOutcome:
    added: int  # new events (a re-import records nothing)
    refused: list[str]  # edits that fail their leak or harm check (or are too long), naming their task


def import_export(planned: list[Planned], store: ReviewStore, scorer: EditScorer) -> ImportOutcome:
    """Record the planned decisions that differ from the last one each annotator's Label Studio
    imports recorded on the pair: a re-import records nothing (and does not undo a decision made
    in the review app since), a decision changed in Label Studio (even back to an earlier one) is
    new. An edit is checked as the review app checks it; one that leaks or fails the harm check
    would need an override reason, which a Label Studio annotation cannot carry, so it is refused
    and named."""
    if not planned:
        return ImportOutcome(0, [])
    run_id = planned[0].item.run_id
    before = store.event_count(run_id)
    imported = {(event.pair_id, event.annotator): event for event in store.latest_from(SOURCE, run_id=run_id)}
    latest = {(plan.decision.pair_id, plan.annotator): plan for plan in planned}  # the file's last word
    refused = []
    for (pair_id, annotator), plan in latest.items():
        decision, previous = plan.decision, imported.get((pair_id, annotator))
        if previous is not None and (previous.action, previous.reason, previous.edited_query) == (
                decision.action, decision.reason, decision.edited_query):
            continue
        too_long = edit_too_long(plan.item, decision.edited_query) if decision.action == "edit" else None
        if too_long:
            refused.append(f"{plan.where}: {too_long}")
            continue
        check = scorer.check(plan.item, decision.edited_query) if decision.action == "edit" else None
        if check is not None and not check.passes:
            refused.append(f"{plan.where}: the edit fails its check ({'; '.join(check.problems)}); "
                           "to keep it, decide it in the review app with an override reason")
            continue
        # unique per change of this annotator's decision on this pair, and the same if an import
        # killed half-way is run again
        request_id = f"{decision.request_id}:{run_id}:{pair_id}:after-{previous.id if previous else 0}"
        store.record(decision.model_copy(update={"request_id": request_id}), annotator=annotator,
                     run_id=run_id, source=SOURCE, check=check)
    return ImportOutcome(store.event_count(run_id) - before, refused)
