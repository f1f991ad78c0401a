"""Verdicts typed into an exported batch's items.jsonl. The file is the review app's input and is never
read back as decisions; a lab that filled it in would otherwise be told only that nothing was reviewed."""

from __future__ import annotations

import json

from pipeline.json_lines import numbered_lines
from pipeline.review.batches import ReviewBatch, ReviewItem, batches_dir

# what a person adding a decision to an item would call it
DECISION_KEYS = ("verdict", "decision", "action", "label", "reason", "edited_query", "accept", "reject", "review")


def typed_fields(text: str) -> set[str]:
    found = set()
    for _, line in numbered_lines(text):
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            found |= {key for key in item if key.lower() in DECISION_KEYS and key not in ReviewItem.model_fields}
    return found


def typed_verdicts_note(run_dir, batches: list[ReviewBatch]) -> str | None:
    """One line naming the batches whose items.jsonl holds decision fields leakless did not write."""
    found = {}
    for batch in batches:
        path = batches_dir(run_dir) / batch.manifest.batch_id / "items.jsonl"
        if fields := typed_fields(path.read_text(encoding="utf-8")):
            found[batch.manifest.batch_id] = fields
    if not found:
        return None
    names = ", ".join(sorted(set().union(*found.values())))
    return (f"items.jsonl of {', '.join(sorted(found))} holds {names}, which leakless does not read back (the "
            "batch files are the review app's input): fill a review sheet instead (`leakless review "
            "export-sheets RUN`, then `leakless review import-sheet RUN FILE --user NAME`)")
