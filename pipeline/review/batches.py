"""A run's accepted pairs -> review batches for annotators, pre-filled with the pipeline's evidence.

A batch is a folder `review/batches/<batch_id>/` with `manifest.json` (who
reviews which pairs) and `items.jsonl` (one ReviewItem a line). Images are not
copied: an item names its image by its path inside the run folder
(`images/<seed_id>.png`), and the review app serves it from there.

The batches are written into a staging folder named after its process,
`review/.batches.p<pid>@<host>~<pid namespace>.<random>` (`staging.owned_staging`), and renamed
into place when whole; a later export removes the folder a killed one left.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from datetime import datetime, timezone
from itertools import zip_longest
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from pydantic import BaseModel

from pipeline.contracts import StageName
from pipeline.json_lines import numbered_lines
from pipeline.staging import RANDOM, filled_then_renamed, owned_staging, remove_abandoned_staging
from pipeline.storage import exclusive_lock
from pipeline.writers.shard_reader import shard_columns, shard_paths

PAIR_COLUMNS = ["id", "seed_id", "instruction", "original_query", "image_description", "category",
                "sub_category", "element", "source", "safety_reason", "leak_score", "run_id"]
REVIEW_DIR = "review"


class Check(BaseModel):
    """One filter stage's final word on a pair, as the annotator sees it."""

    stage: str
    verdict: str
    reason: str
    score: float | None = None


class ReviewItem(BaseModel):
    pair_id: str
    seed_id: str
    run_id: str
    batch_id: str
    category: str
    sub_category: str
    element: str
    instruction: str
    original_query: str
    image_description: str
    image: str                      # path inside the run folder
    source: str
    safety_reason: str
    leak_score: float | None = None
    leak_threshold: float | None = None
    leak_text_harm: float | None = None   # the leak score's two parts, on its scale
    leak_reveal: float | None = None      # None for a run written before they were recorded
    leak_code: str | None = None          # the leak filter's reason code (leak.none, .text_harm, .reveal, .judge)
    leak_spans: list[str] = []
    detector_version: str = ""
    pipeline_verdict: str = "keep"  # "drop" if any final check dropped it
    checks: list[Check] = []        # every stage's last decision, rewrite attempts excluded
    harm_check: Check | None = None


class BatchManifest(BaseModel):
    batch_id: str
    run_id: str
    created: str
    pair_ids: list[str]
    # annotator -> the pair ids they review; empty means anyone scoped to the batch reviews all
    assignment: dict[str, list[str]] = {}

    def pairs_for(self, annotator: str) -> list[str]:
        return self.assignment.get(annotator, []) if self.assignment else self.pair_ids

    def overlap_annotator(self) -> str | None:
        """Who double-labels the batch's overlap pairs: `assign` writes the primary annotator first
        and the second one after it; None for a batch without overlap."""
        names = list(self.assignment)
        return names[1] if len(names) > 1 else None


def review_dir(run_dir: Path) -> Path:
    return Path(run_dir) / REVIEW_DIR


def batches_dir(run_dir: Path) -> Path:
    return review_dir(run_dir) / "batches"


def load_pairs(run_dir: Path) -> pd.DataFrame:
    """The run's accepted pairs without the embedded image bytes, plus each pair's image path."""
    if not shard_paths(run_dir):
        raise FileNotFoundError(f"{run_dir}: no data/train-*.parquet (is this a finished run?)")
    frame = shard_columns(run_dir, PAIR_COLUMNS + ["image"])
    frame["image_path"] = [image["path"] for image in frame.pop("image")]
    return frame


def final_checks(run_dir: Path) -> dict[str, list[Check]]:
    """pair id -> each stage's last decision (rewrite attempts are history, not a verdict)."""
    path = Path(run_dir) / "decisions.parquet"
    if not path.exists():
        return {}
    decisions = pd.read_parquet(path)
    decisions = decisions[decisions["stage"] != StageName.rewrite].sort_values("attempt")
    last = decisions.groupby(["item_id", "stage"], sort=False).tail(1)
    checks: dict[str, list[Check]] = defaultdict(list)
    for row in last.itertuples():
        score = None if pd.isna(row.score) else float(row.score)
        checks[row.item_id].append(Check(stage=row.stage, verdict=row.verdict, reason=row.reason, score=score))
    return checks


# decisions.parquet column -> ReviewItem field, for the parts of the leak verdict a run may lack
LEAK_PARTS = {"signal_text_harm": "leak_text_harm", "signal_reveal": "leak_reveal", "code": "leak_code"}


def leak_evidence(run_dir: Path) -> dict[str, dict]:
    path = Path(run_dir) / "decisions.parquet"
    if not path.exists():
        return {}
    parts = [column for column in LEAK_PARTS if column in pq.read_schema(path).names]
    decisions = pd.read_parquet(path, columns=["item_id", "stage", "attempt", "threshold", "spans",
                                               "detector_version", *parts])
    final = decisions[decisions["stage"] == StageName.leak_filter].sort_values("attempt").groupby("item_id").tail(1)
    return {row["item_id"]: {"leak_threshold": row["threshold"], "leak_spans": list(row["spans"]),
                             "detector_version": row["detector_version"],
                             **{LEAK_PARTS[column]: _present(row[column]) for column in parts}}
            for row in final.to_dict("records")}


def _present(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def stratified_order(pairs: pd.DataFrame) -> list[str]:
    """Pair ids round-robin across categories, so every batch holds a mix of categories."""
    by_category = [list(group.sort_values("id")["id"]) for _, group in pairs.groupby("category", sort=True)]
    return [pair_id for row in zip_longest(*by_category) for pair_id in row if pair_id is not None]


def assign(pair_ids: list[str], annotators: list[str], batch_index: int, overlap: float) -> dict[str, list[str]]:
    """One primary annotator per batch (rotating), and the first `overlap` share of its
    pairs also goes to the next annotator in the rotation, for agreement."""
    if not annotators:
        return {}
    primary = annotators[batch_index % len(annotators)]
    assignment = {primary: list(pair_ids)}
    if len(annotators) > 1 and overlap > 0:
        second = annotators[(batch_index + 1) % len(annotators)]
        assignment[second] = list(pair_ids[:math.ceil(overlap * len(pair_ids))])
    return assignment


def check_annotators(annotators: list[str], overlap: float) -> None:
    """Overlap pairs go to a second annotator, so an overlap needs two names; a name given twice
    would be its own second annotator."""
    repeated = sorted({name for name in annotators if annotators.count(name) > 1})
    if repeated:
        raise ValueError(f"--annotators names {', '.join(repeated)} more than once")
    if overlap > 0 and len(annotators) < 2:
        raise ValueError(f"--overlap {overlap:g} needs at least two --annotators (a second one labels "
                         f"the overlap pairs); got {len(annotators)}")


def review_item(row, batch_id: str, checks: list[Check], evidence: dict) -> ReviewItem:
    harm = next((check for check in checks if check.stage == StageName.harm_check), None)
    return ReviewItem(
        pair_id=row.id, seed_id=row.seed_id, run_id=row.run_id, batch_id=batch_id, category=row.category,
        sub_category=row.sub_category, element=row.element, instruction=row.instruction,
        original_query=row.original_query, image_description=row.image_description, image=row.image_path,
        source=row.source, safety_reason=row.safety_reason,
        leak_score=None if pd.isna(row.leak_score) else float(row.leak_score),
        pipeline_verdict="drop" if any(check.verdict == "drop" for check in checks) else "keep",
        checks=checks, harm_check=harm, **evidence,
    )


def export_batches(run_dir: Path, batch_size: int = 50, overlap: float = 0.0,
                   annotators: list[str] | None = None, notes: list[str] | None = None) -> list[BatchManifest]:
    """Write every accepted pair of the run into review batches; refuses to overwrite an export
    (decisions already made refer to these batch ids). The staging folders of killed exports of the run
    are removed on the way, said in `notes`."""
    notes = [] if notes is None else notes
    if batch_size < 1:
        raise ValueError("--batch-size must be at least 1")
    if not 0.0 <= overlap <= 1.0:
        raise ValueError("--overlap must be between 0 and 1")
    check_annotators(annotators or [], overlap)
    run_dir = Path(run_dir)

    def busy(holder: str) -> ValueError:  # both would pass the check below, and the second fail at the end
        return ValueError(f"another review export of {run_dir.name} is running"
                          f"{f' (pid {holder})' if holder else ''}: wait for it to end")

    with exclusive_lock(run_dir / ".review-export.lock", busy):  # not under review/: it marks an export
        return _export_batches(run_dir, batch_size, overlap, annotators or [], notes)


def _export_batches(run_dir: Path, batch_size: int, overlap: float, annotators: list[str],
                    notes: list[str]) -> list[BatchManifest]:
    target = batches_dir(run_dir)
    if target.exists():
        raise ValueError(f"{target} exists: this run was already exported for review")
    pairs = load_pairs(run_dir)
    rows = {row.id: row for row in pairs.itertuples()}
    checks, evidence = final_checks(run_dir), leak_evidence(run_dir)
    order = stratified_order(pairs)
    run_id = run_dir.name
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    manifests = []
    target.parent.mkdir(parents=True, exist_ok=True)
    # `.batches-<random>`: named before staging folders carried their process
    notes += remove_abandoned_staging(target.parent, re.escape(target.name), "review export",
                                      untraced=rf"\.{target.name}-{RANDOM}")
    with filled_then_renamed(owned_staging(target.parent, target.name), target) as staging:
        for index, start in enumerate(range(0, len(order), batch_size)):
            ids = order[start:start + batch_size]
            batch_id = f"{run_id}-b{index:03d}"
            manifest = BatchManifest(batch_id=batch_id, run_id=run_id, created=created, pair_ids=ids,
                                     assignment=assign(ids, annotators, index, overlap))
            folder = staging / batch_id
            folder.mkdir()
            (folder / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
            items = [review_item(rows[i], batch_id, checks.get(i, []), evidence.get(i, {})) for i in ids]
            (folder / "items.jsonl").write_text("".join(item.model_dump_json() + "\n" for item in items),
                                                encoding="utf-8")
            manifests.append(manifest)
    return manifests


class ReviewBatch(BaseModel):
    manifest: BatchManifest
    items: dict[str, ReviewItem]
    run_dir: Path

    @classmethod
    def load(cls, folder: Path) -> ReviewBatch:
        manifest = BatchManifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))
        items = [ReviewItem.model_validate_json(line)
                 for _, line in numbered_lines((folder / "items.jsonl").read_text(encoding="utf-8"))]
        return cls(manifest=manifest, items={item.pair_id: item for item in items},
                   run_dir=folder.parent.parent.parent)

    def items_for(self, annotator: str) -> list[ReviewItem]:
        return [self.items[pair_id] for pair_id in self.manifest.pairs_for(annotator)]


def load_batches(run_dir: Path) -> list[ReviewBatch]:
    folder = batches_dir(run_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"{run_dir}: not exported for review (run `leakless review export` first)")
    return [ReviewBatch.load(path) for path in sorted(folder.iterdir()) if (path / "manifest.json").exists()]


def find_batch(runs_dir: Path, batch_id: str) -> ReviewBatch | None:
    """The batch with this id under any run of runs_dir; ids are `<run_id>-bNNN`, unique per runs_dir."""
    for folder in Path(runs_dir).glob(f"*/{REVIEW_DIR}/batches/*"):
        if folder.name == batch_id and (folder / "manifest.json").exists():
            return ReviewBatch.load(folder)
    return None
