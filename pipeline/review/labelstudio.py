"""Label Studio interop: review batches as Label Studio tasks plus a labelling config
(`labelstudio_import` brings its JSON exports back into the review store).

Images go as URLs (by default Label Studio's local-files storage), never inlined. The
pipeline's verdict is pre-selected only when asked (`prefill="model"`). Label Studio
checks a task's `$variables` but not the contents of predictions, so `check_tasks`
verifies our from_name / to_name / choices against the config.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pipeline.review.batches import ReviewBatch, ReviewItem
from pipeline.review.decisions import REASONS

Prefill = Literal["none", "model"]
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
