"""Label Studio interop: review batches as Label Studio tasks (with the pipeline's verdict as a
prediction) plus a labelling config, and Label Studio JSON exports back into the review store.

Label Studio checks a task's `$variables` but not the contents of predictions,
so `check_tasks` verifies our from_name / to_name / choices against the config.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from pipeline.review.batches import ReviewBatch, ReviewItem
from pipeline.review.store import REASONS, DecisionIn, ReviewStore

CHOICE_LINES = "\n".join(f'    <Choice value="{reason}"/>' for reason in REASONS)
LABEL_CONFIG = f"""<View>
  <Image name="image" value="$image"/>
  <Header value="Query"/>
  <Text name="query" value="$query"/>
  <Header value="Image description"/>
  <Text name="description" value="$description"/>
  <Text name="category" value="$category"/>
  <Choices name="verdict" toName="query" choice="single" showInline="true">
    <Choice value="accept"/>
    <Choice value="reject"/>
  </Choices>
  <Choices name="reason" toName="query" choice="single" showInline="true">
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


def image_data_url(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def task(item: ReviewItem, run_dir: Path) -> dict:
    verdict = "accept" if item.pipeline_verdict == "keep" else "reject"
    return {
        "data": {"image": image_data_url(run_dir / item.image), "query": item.instruction,
                 "description": item.image_description, "category": item.category,
                 "pair_id": item.pair_id, "batch_id": item.batch_id, "run_id": item.run_id},
        "predictions": [{
            "model_version": item.detector_version or "unknown", "score": item.leak_score,
            "result": [{"from_name": "verdict", "to_name": "query", "type": "choices",
                        "value": {"choices": [verdict]}}],
        }],
    }


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


def export_tasks(batches: list[ReviewBatch]) -> list[dict]:
    tasks = [task(item, batch.run_dir) for batch in batches for item in batch.items.values()]
    check_tasks(tasks)
    return tasks


def annotator_name(completed_by) -> str:
    if isinstance(completed_by, dict):
        return completed_by.get("email") or f"labelstudio-user-{completed_by.get('id')}"
    return f"labelstudio-user-{completed_by}"


def annotation_decision(exported: dict, annotation: dict) -> DecisionIn:
    """One Label Studio annotation as a review decision; the request id makes re-imports idempotent."""
    values: dict[str, list[str]] = {}
    for result in annotation.get("result", []):
        value = result.get("value", {})
        values[result.get("from_name")] = value.get("choices") or value.get("text") or []
    data = exported["data"]
    verdict = (values.get("verdict") or ["skip"])[0]
    edited = (values.get("edited_query") or [""])[0].strip()
    action = "edit" if verdict == "accept" and edited and edited != data["query"] else verdict
    return DecisionIn(batch_id=data["batch_id"], pair_id=data["pair_id"], action=action,
                      reason=(values.get("reason") or [None])[0], edited_query=edited or None,
                      request_id=f"labelstudio:{exported.get('id')}:{annotation.get('id')}:"
                                 f"{annotation.get('updated_at', '')}")


def plan_import(exported_tasks: list[dict], batches: list[ReviewBatch]) -> list[tuple[DecisionIn, ReviewItem, str]]:
    """(decision, item, annotator) per non-cancelled annotation; a ValueError names the first
    annotation that is not a decision on a pair of these batches."""
    items = {(b.manifest.batch_id, pair_id): item for b in batches for pair_id, item in b.items.items()}
    planned = []
    for exported in exported_tasks:
        for annotation in exported.get("annotations", []):
            try:
                if annotation.get("was_cancelled"):
                    continue
                decision = annotation_decision(exported, annotation)
            except (ValidationError, KeyError, TypeError, AttributeError) as error:
                raise ValueError(f"task {exported.get('id')}: not a review annotation ({error})") from None
            item = items.get((decision.batch_id, decision.pair_id))
            if item is None:
                raise ValueError(f"task {exported.get('id')}: pair {decision.pair_id} is in no batch of this run")
            planned.append((decision, item, annotator_name(annotation.get("completed_by"))))
    return planned


def import_export(exported_tasks: list[dict], batches: list[ReviewBatch], store: ReviewStore,
                  rescore: Callable[[ReviewItem, str], float]) -> int:
    """Record every non-cancelled annotation; all are checked before any is written. Returns
    how many were new (a re-import of the same export records nothing)."""
    planned = plan_import(exported_tasks, batches)
    before = store.event_count(batches[0].manifest.run_id) if batches else 0
    for decision, item, annotator in planned:
        score = rescore(item, decision.edited_query) if decision.action == "edit" else None
        store.record(decision, annotator=annotator, run_id=item.run_id, new_leak_score=score,
                     source="labelstudio")
    return (store.event_count(batches[0].manifest.run_id) if batches else 0) - before
